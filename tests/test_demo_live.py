"""`./dev demo-live` works: the go-live path on the fixture estate against a local Airflow."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_demo_live_runs_the_go_live_path(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "fixtures.demo_live", str(tmp_path / "demo-live")],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    for line in (
        "orders-nightly-etl (DAG orders-nightly-etl): cut over: paused in Sundial, live in Airflow",
        "inventory-forecast (DAG inventory-forecast): rolled back: paused in Airflow, live in Sundial again",
        "- 25 processes not cut over yet",
    ):
        assert line in out, out[-4000:]
    assert out.count("ALL GOOD") == 2  # verify before the wave, and verify --runs after
