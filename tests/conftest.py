"""Shared test fixtures.  Airflow is configured here, before anything imports it: a
throw-away AIRFLOW_HOME and a fixed plugins folder that the estate fixture converts into.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
ESTATE = FIXTURES / "estate"
INVALID = FIXTURES / "invalid"

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="sundial-migrate-tests-"))
ESTATE_OUT = _SESSION_DIR / "estate-out"
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow-home")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ESTATE_OUT / "plugins")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def converted_estate():
    """The fixture estate converted once, with the default mapping rules, in UTC."""
    from migrate.pipeline import convert

    result = convert([ESTATE], ESTATE_OUT, timezone="UTC")
    assert not result.problems, [str(p) for p in result.problems]
    use_plugins(ESTATE_OUT / "plugins")
    return result


def use_plugins(folder: Path) -> None:
    """Make a generated plugins folder importable, as Airflow does for its plugins folder."""
    import importlib

    sys.path_importer_cache.pop(str(folder), None)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    importlib.invalidate_caches()


@pytest.fixture(scope="session")
def estate_processes():
    from migrate.sundial.load import load_sources

    loaded = load_sources([ESTATE])
    assert not loaded.problems
    return {p.name: p for p in loaded.processes}


def load_dagbag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=False)


@pytest.fixture(scope="session")
def estate_dagbag(converted_estate):
    return load_dagbag(ESTATE_OUT / "dags")


@pytest.fixture
def servers():
    """Start hostile 127.0.0.1 servers (tests/hostile_server.py); all stopped after."""
    from tests.hostile_server import Server

    started = []

    def start(behave):
        server = Server(behave)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
