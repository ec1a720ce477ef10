"""Session fixtures for the run tests: the converted fixtures and one migrated Airflow."""

from __future__ import annotations

import pytest

from tests.run.harness import AirflowSession, convert_run_fixtures


@pytest.fixture(scope="session")
def run_conversion(tmp_path_factory):
    """fixtures/run converted once: (output folder, parity.json)."""
    out = tmp_path_factory.mktemp("run-converted")
    report = convert_run_fixtures(out)
    return out, report


@pytest.fixture(scope="session")
def airflow_session(run_conversion, tmp_path_factory):
    """`airflow db migrate` once per session, DAGs and plugins from the conversion."""
    out, _ = run_conversion
    return AirflowSession(
        tmp_path_factory.mktemp("airflow"), out / "dags", out / "plugins"
    )


@pytest.fixture(scope="session")
def parity(run_conversion):
    """process name -> its parity.json entry (dag_id, file, tasks, to_create...)."""
    _, report = run_conversion
    return {p["process"]: p for p in report["processes"]}


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """A real moto server on loopback (the venv's `moto_server`), stopped at the end.

    Requests are recorded (moto's recorder) so tests can read what reached "AWS".  ECS
    containers are finished by tests/run/moto_patch (see its docstring)."""
    from tests.run.harness import MotoServer

    server = MotoServer(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()
