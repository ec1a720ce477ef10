"""`migrate cutover` and `migrate rollback` for real: the fixture estate converted (every
DAG created paused), served to a real Airflow 3.3 (api-server, dag-processor,
scheduler), with the fixture Sundial server answering pause, resume, runs in progress
and kill as Sundial's API does.  A process is never live in both, whatever step the
cutover is killed at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from fixtures.server import FixtureServer
from migrate.cutover import journal as journals
from tests.conftest import ESTATE, ROOT
from tests.live_airflow import PASSWORD, LiveAirflow

pytestmark = pytest.mark.slow

WAVE = ["inventory-forecast", "orders-nightly-etl", "regional-sales-loads"]


def migrate_cli(*args, env=None, timeout=180):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "migrate.cli", *map(str, args)],
        env={**base, "AF_PASSWORD": PASSWORD, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory, converted_estate):
    from tests.conftest import ESTATE_OUT

    base = tmp_path_factory.mktemp("cutover")
    out = base / "out"
    shutil.copytree(ESTATE_OUT, out)
    sundial = FixtureServer(history_days=2)
    sundial.settled = True
    sundial.start()
    airflow = LiveAirflow(
        base / "airflow",
        sys.executable,
        dags_folder=out / "dags",
        plugins_folder=out / "plugins",
    )
    try:
        airflow.start()
        report = json.loads((out / "report" / "parity.json").read_text())
        dag_ids = {p["dag_id"] for p in report["processes"]}
        airflow.wait_for(
            lambda dags: dag_ids <= set(dags)
            and all(dags[d]["last_parsed_time"] for d in dag_ids),
            "the dag-processor to parse all 28 DAGs",
        )
        yield {"out": out, "airflow": airflow, "sundial": sundial, "base": base}
    finally:
        airflow.stop()
        sundial.stop()


def connections(live):
    return (
        "--sundial-url",
        live["sundial"].url,
        "--airflow-url",
        live["airflow"].url,
        "--username",
        "admin",
        "--password-env",
        "AF_PASSWORD",
    )


def cutover(live, journal, *processes, extra=(), env=None):
    wave = [a for p in processes for a in ("--process", p)]
    return migrate_cli(
        "cutover",
        ESTATE,
        "--report",
        live["out"],
        *wave,
        "--journal",
        journal,
        *connections(live),
        *extra,
        env=env,
    )


def rollback(live, journal, *extra, env=None):
    return migrate_cli(
        "rollback", "--journal", journal, *connections(live), *extra, env=env
    )


def state(live, name) -> tuple[bool, bool]:
    """(paused in Sundial, paused in Airflow) now."""
    sundial = live["sundial"].definitions[name].get("paused") is True
    airflow = live["airflow"].dags()[name]["is_paused"]
    return sundial, airflow


def test_a_wave_cuts_over_then_rolls_back(live, tmp_path):
    """Three live processes and one Sundial had paused: the cutover waits for the run
    Sundial has in progress, pauses each in Sundial before its DAG is unpaused, skips
    the paused one; verify then says they are cut over; the rollback gives Sundial
    back every one of them."""
    journal = tmp_path / "wave.jsonl"
    running = live["sundial"].start_run("orders-nightly-etl", 3)
    proc = cutover(live, journal, *WAVE, "legacy-crm-sync", extra=("--json",))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    statuses = {p["process"]: p["status"] for p in result["processes"]}
    assert statuses == {**{n: "cut over" for n in WAVE}, "legacy-crm-sync": "skipped"}
    for name in WAVE:
        assert state(live, name) == (True, False), name
    assert state(live, "legacy-crm-sync") == (True, True)
    records = journals.read(journal)
    for name in WAVE:
        steps = [(r.step, r.state) for r in records if r.process == name]
        assert steps == [
            ("pause-sundial", "start"),
            ("pause-sundial", "done"),
            ("wait-sundial", "start"),
            ("wait-sundial", "done"),
            ("unpause-dag", "start"),
            ("unpause-dag", "done"),
            ("cut-over", "done"),
        ], name
    assert live["sundial"].live_runs(None, None, None, {"succeeded"})[0][0] == running

    verified = migrate_cli(
        "verify",
        ESTATE,
        "--report",
        live["out"],
        "--airflow-url",
        live["airflow"].url,
        "--username",
        "admin",
        "--password-env",
        "AF_PASSWORD",
        "--journal",
        journal,
        "--json",
    )
    assert verified.returncode == 0, verified.stdout[-3000:]
    notes = {p["process"]: p["notes"] for p in json.loads(verified.stdout)["processes"]}
    for name in WAVE:
        assert "cut over: Airflow runs it, Sundial has it paused" in notes[name]

    again = cutover(live, journal, *WAVE)
    assert again.returncode == 0 and again.stdout.count(": already cut over:") == 3

    back = rollback(live, journal, "--json")
    assert back.returncode == 0, back.stdout + back.stderr
    assert {p["status"] for p in json.loads(back.stdout)["processes"]} == {
        "rolled back"
    }
    for name in WAVE:
        assert state(live, name) == (False, True), name
    assert journals.phases(journals.read(journal)) == {n: journals.BEFORE for n in WAVE}


@pytest.mark.parametrize("crash_after", range(1, 8))
def test_a_cutover_killed_at_any_step_is_finished_by_running_it_again(
    live, tmp_path, crash_after
):
    """SIGKILL after each journal record in turn: the process is never live in both,
    and the same command run again ends exactly where an uninterrupted cutover does."""
    name = "orders-nightly-etl"
    journal = tmp_path / "killed.jsonl"
    killed = cutover(live, journal, name, env={journals.CRASH_AFTER: str(crash_after)})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert len(journals.read(journal)) == crash_after
    assert state(live, name) != (False, False), "live in both"
    finished = cutover(live, journal, name)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert state(live, name) == (True, False)
    assert journals.phases(journals.read(journal)) == {name: journals.LIVE_IN_AIRFLOW}
    back = rollback(live, journal)
    assert back.returncode == 0, back.stdout + back.stderr
    assert state(live, name) == (False, True)


def test_a_run_that_outlasts_the_wait_leaves_it_as_it_was_then_kill(live, tmp_path):
    """A Sundial run in progress longer than --wait-running: resumed in Sundial, the
    DAG still paused, exit 1; --kill-running asks Sundial to kill it and cuts over."""
    name = "regional-sales-loads"
    journal = tmp_path / "wait.jsonl"
    live["sundial"].start_run(name, 120)
    proc = cutover(live, journal, name, extra=("--wait-running", "1"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Sundial still runs it after 1 s" in proc.stdout
    assert state(live, name) == (False, True)
    proc = cutover(
        live, journal, name, extra=("--wait-running", "20", "--kill-running")
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert state(live, name) == (True, False)
    assert rollback(live, journal).returncode == 0


def test_unreachable_sundial_or_airflow_is_one_line_and_changes_nothing(live, tmp_path):
    journal = tmp_path / "down.jsonl"
    down = migrate_cli(
        "cutover",
        ESTATE,
        "--report",
        live["out"],
        "--process",
        "inventory-forecast",
        "--journal",
        journal,
        "--sundial-url",
        "http://127.0.0.1:9",
        "--airflow-url",
        live["airflow"].url,
        "--username",
        "admin",
        "--password-env",
        "AF_PASSWORD",
    )
    assert down.returncode == 2, down.stdout + down.stderr
    (line,) = down.stderr.splitlines()
    assert line.startswith("error: GET http://127.0.0.1:9/api/process_definitions/")
    assert journals.read(journal) == []
    assert state(live, "inventory-forecast") == (False, True)


def test_sundial_going_away_midway_is_one_line_and_nothing_runs_twice(live, tmp_path):
    """Sundial stops answering while the cutover waits for its run in progress: one line
    naming where the process was left (paused in Sundial, its DAG paused), exit 2, the
    journal consistent; the same command, once Sundial is back, finishes it."""
    import threading

    name = "inventory-forecast"
    journal = tmp_path / "midway.jsonl"
    own = FixtureServer(history_days=2)
    own.settled = True
    own.start()
    own.start_run(name, 600)
    # Sundial goes away: every request from then on is dropped unanswered
    stopper = threading.Timer(3.0, lambda: own.inject("drop", times=None))
    stopper.start()
    wave = ["--process", name]
    here = {**live, "sundial": own}
    proc = migrate_cli(
        "cutover",
        ESTATE,
        "--report",
        live["out"],
        *wave,
        "--journal",
        journal,
        "--sundial-url",
        own.url,
        "--airflow-url",
        live["airflow"].url,
        "--username",
        "admin",
        "--password-env",
        "AF_PASSWORD",
        "--wait-running",
        "120",
    )
    stopper.join()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "cannot connect" in line or "cut off" in line, line
    assert line.endswith(
        f"{name}: paused in Sundial and its DAG paused (neither runs it): run the same "
        "command again when both answer, or migrate rollback"
    )
    steps = [(r.step, r.state) for r in journals.read(journal)]
    assert steps == [
        ("pause-sundial", "start"),
        ("pause-sundial", "done"),
        ("wait-sundial", "start"),
    ]
    assert state(here, name) == (True, True)  # neither, never both
    own.clear_faults()  # Sundial is back
    try:
        again = migrate_cli(
            "cutover",
            ESTATE,
            "--report",
            live["out"],
            *wave,
            "--journal",
            journal,
            "--sundial-url",
            own.url,
            "--airflow-url",
            live["airflow"].url,
            "--username",
            "admin",
            "--password-env",
            "AF_PASSWORD",
            "--kill-running",
            "--wait-running",
            "30",
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert state(here, name) == (True, False)
        back = migrate_cli(
            "rollback",
            "--journal",
            journal,
            "--sundial-url",
            own.url,
            "--airflow-url",
            live["airflow"].url,
            "--username",
            "admin",
            "--password-env",
            "AF_PASSWORD",
        )
        assert back.returncode == 0, back.stdout + back.stderr
        assert state(here, name) == (False, True)
    finally:
        own.stop()
