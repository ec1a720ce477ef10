"""Nothing runs in both schedulers: verify's paused rule, every case, and the DAGs
convert writes for each go-live mode."""

from __future__ import annotations

import re

import pytest

from migrate.verify.core import PAUSED_DIFFERS, Entry, _check_paused


@pytest.mark.parametrize(
    "paused_on_deploy, sundial_paused, dag_paused, outcome",
    [
        # created paused until the cutover (the default)
        (True, False, True, "note: not cut over yet"),
        (True, False, False, "issue: live in both Sundial and Airflow"),
        (True, True, True, "ok"),
        (
            True,
            True,
            False,
            "issue: Sundial has this process paused, yet the DAG is live",
        ),
        # big bang: the DAG as Sundial had the process
        (False, False, False, "ok"),
        (False, False, True, "issue: Sundial paused=false, Airflow is_paused=true"),
        (False, True, True, "ok"),
        (
            False,
            True,
            False,
            "issue: Sundial has this process paused, yet the DAG is live",
        ),
    ],
)
def test_the_paused_rule(paused_on_deploy, sundial_paused, dag_paused, outcome):
    entry = Entry("p", "p", paused=dag_paused)
    _check_paused(entry, sundial_paused, "p", paused_on_deploy)
    if outcome == "ok":
        assert entry.issues == [] and entry.notes == []
    elif outcome.startswith("note: "):
        assert entry.issues == []
        assert entry.notes[0].startswith(outcome[len("note: ") :])
    else:
        ((kind, message),) = entry.issues
        assert kind == PAUSED_DIFFERS and message.startswith(outcome[len("issue: ") :])


def _paused_flags(out) -> dict[str, bool]:
    flags = {}
    for dag in sorted((out / "dags").glob("*.py")):
        m = re.search(r"is_paused_upon_creation=(True|False)", dag.read_text())
        flags[dag.stem] = m[1] == "True"
    return flags


def test_convert_creates_every_dag_paused_unless_told_otherwise(
    tmp_path, converted_estate
):
    """By default every DAG is created paused (each live process gets a manual finding:
    go live by cutting it over); dags_paused_on_deploy: false gives Sundial's flags
    (three processes are paused in the fixture estate); a rule cannot set it for some
    processes only."""
    from migrate.mapping.rules import MappingError
    from migrate.pipeline import convert
    from migrate.report import read_parity
    from tests.conftest import ESTATE, ESTATE_OUT

    assert set(_paused_flags(ESTATE_OUT).values()) == {True}
    report = read_parity(ESTATE_OUT / "report" / "parity.json")
    assert report["airflow"]["dags_paused_on_deploy"] is True
    manual = {
        p["process"]
        for p in report["processes"]
        for f in p["findings"]
        if f["field"] == "paused" and f["severity"] == "manual"
    }
    assert len(manual) == 25 and "legacy-crm-sync" not in manual

    big_bang = tmp_path / "big-bang.yaml"
    big_bang.write_text("version: 1\ndefaults:\n  dags_paused_on_deploy: false\n")
    out = tmp_path / "out"
    convert([ESTATE], out, mappings=[big_bang])
    flags = _paused_flags(out)
    assert sorted(k for k, v in flags.items() if v) == [
        "gdpr-erasure-requests",
        "legacy-crm-sync",
        "recommendations-model-refresh",
    ]
    assert (
        read_parity(out / "report" / "parity.json")["airflow"]["dags_paused_on_deploy"]
        is False
    )

    per_rule = tmp_path / "per-rule.yaml"
    per_rule.write_text(
        "version: 1\nrules:\n  - processes: ['orders-*']\n"
        "    set: {dags_paused_on_deploy: false}\n"
    )
    with pytest.raises(MappingError, match="dags_paused_on_deploy"):
        convert([ESTATE], tmp_path / "out2", mappings=[per_rule])
