"""What requirements.txt pins for each Airflow is what the matrix proved: every pin of
``migrate.target`` is the version ``locks/`` installs into that Airflow's virtualenv
(``locks/dev.txt`` for 3.3, the project's own), so a renewed lock that moves a provider
fails here until target.py says the same."""

from __future__ import annotations

import re

import pytest

from migrate.target import MINORS, TARGETS
from tests.matrix.conftest import ROOT


def _lock(minor: str) -> dict[str, str]:
    name = "dev.txt" if minor == "3.3" else f"airflow-{minor}.txt"
    pins = {}
    for line in (ROOT / "locks" / name).read_text().splitlines():
        if m := re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip()):
            pins[re.sub(r"[-_.]+", "-", m[1]).lower()] = m[2]
    return pins


@pytest.mark.parametrize("minor", MINORS)
def test_requirements_pins_are_the_locked_versions(minor):
    locked = _lock(minor)
    target = TARGETS[minor]
    for name, version in target.pins.items():
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert locked.get(key) == version, (
            f"Airflow {minor}: target.py pins {name}=={version}, "
            f"locks/ installs {locked.get(key)}"
        )
    assert locked["apache-airflow-task-sdk"].startswith(
        "1." + minor.split(".")[1] + "."
    )
