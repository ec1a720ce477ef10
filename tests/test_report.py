"""The report stands on its own: it explains Sundial's behaviour in words and cites only
what a user can look up (Sundial's own source files), never this project's notes."""

from __future__ import annotations

import re

from tests.conftest import ESTATE_OUT

NOT_THEIRS = re.compile(r"SUNDIAL\.md|AIRFLOW\.md|shared/|§|/work/")


def test_findings_cite_nothing_the_user_does_not_have(converted_estate):
    for name in ("parity.md", "parity.json", "provenance.json"):
        text = (ESTATE_OUT / "report" / name).read_text(encoding="utf-8")
        assert NOT_THEIRS.search(text) is None, (name, NOT_THEIRS.search(text))
    for dag in (ESTATE_OUT / "dags").glob("*.py"):
        assert NOT_THEIRS.search(dag.read_text(encoding="utf-8")) is None, dag
    sources = re.findall(
        r"app/[\w/]+\.scala", (ESTATE_OUT / "report" / "parity.md").read_text()
    )
    assert sources  # Sundial's own files are cited where they help
