"""The version matrix: one virtualenv per Airflow 3 minor sundial-migrate writes for.

`./dev setup` builds them from locks/airflow-X.Y.txt (3.3 is the project's own .venv)
and writes where they are to .venv/airflow-matrix.json.  In CI a missing one fails the
run; elsewhere the matrix tests are skipped with the command that builds them.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from migrate.target import MINORS

ROOT = Path(__file__).resolve().parents[2]
MATRIX_FILE = Path(
    os.environ.get(
        "SUNDIAL_MIGRATE_AIRFLOW_MATRIX", ROOT / ".venv" / "airflow-matrix.json"
    )
)
PROBE = Path(__file__).with_name("probe_dags.py")


def matrix_python(minor: str) -> Path:
    """The python of the virtualenv holding that Airflow minor."""
    try:
        python = Path(json.loads(MATRIX_FILE.read_text())[minor])
    except (OSError, KeyError, ValueError):
        python = None
    if python is None or not python.exists():
        message = f"no Airflow {minor} virtualenv ({MATRIX_FILE}): run ./dev setup"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


def airflow_env(plugins: Path | None, home: Path) -> dict[str, str]:
    """A clean environment for that Airflow (none of the tests' own AIRFLOW_ settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if plugins is not None:
        env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins)
    return env


def probe(minor: str, dags: Path, plugins: Path, start: str, count: int) -> dict:
    """tests/matrix/probe_dags.py run in that Airflow: import errors, DAGs, runs."""
    with tempfile.TemporaryDirectory(prefix=f"airflow-{minor}-") as home:
        proc = subprocess.run(
            [str(matrix_python(minor)), str(PROBE), str(dags), start, str(count)],
            env=airflow_env(plugins, Path(home)),
            capture_output=True,
            text=True,
            timeout=600,
            cwd=home,
        )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(params=MINORS)
def minor(request) -> str:
    return request.param
