"""`migrate verify --runs` after real runs: a shell-only process that fires every minute,
cut over with `migrate cutover`, run by a real Airflow 3.3 (LocalExecutor).  Its runs
match Quartz's fires; a deleted run is a missed fire; a task cleared and run again is
over Sundial's max_attempts."""

from __future__ import annotations

import json
import time

import pytest

from fixtures.server import FixtureServer
from tests.cutover.test_live import migrate_cli
from tests.live_airflow import PASSWORD, LiveAirflow

pytestmark = pytest.mark.slow

EVERY_MINUTE = {
    "process_definition_name": "every-minute",
    "schedule": {
        "cron_schedule": {
            "minutes": "*",
            "hours": "*",
            "day_of_month": "*",
            "month": "*",
            "day_of_week": "?",
        }
    },
    "task_definitions": [
        {
            "task_definition_name": "say-hello",
            "dependencies": [],
            "executable": {"shell_script_command": {"script": "echo hello"}},
            "max_attempts": 1,
            "backoff_base_seconds": 0,
        }
    ],
}


def _just_before(moment: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(moment) - timedelta(seconds=1)).isoformat()


def test_runs_since_the_cutover_are_held_to_sundials_rules(tmp_path):
    import sys

    from migrate.pipeline import convert

    source = tmp_path / "estate"
    source.mkdir()
    (source / "every-minute.json").write_text(json.dumps(EVERY_MINUTE))
    out = tmp_path / "out"
    assert not convert([source], out).problems
    sundial = FixtureServer([EVERY_MINUTE], history_days=0.01, runs_per_day=0).start()
    airflow = LiveAirflow(
        tmp_path / "airflow",
        sys.executable,
        dags_folder=out / "dags",
        plugins_folder=out / "plugins",
        task_slots=2,
    )
    try:
        airflow.start()
        airflow.wait_for(
            lambda dags: dags.get("every-minute", {}).get("last_parsed_time"),
            "the DAG to be parsed",
        )
        login = ("--username", "admin", "--password-env", "AF_PASSWORD")
        cut = migrate_cli(
            "cutover",
            source,
            "--report",
            out,
            "--process",
            "every-minute",
            "--sundial-url",
            sundial.url,
            "--airflow-url",
            airflow.url,
            *login,
        )
        assert cut.returncode == 0, cut.stdout + cut.stderr

        def verify_runs(*since):
            proc = migrate_cli(
                "verify",
                source,
                "--report",
                out,
                "--airflow-url",
                airflow.url,
                *login,
                "--runs",
                *since,
                "--json",
            )
            assert proc.stdout, proc.stderr
            (entry,) = json.loads(proc.stdout)["processes"]
            return proc.returncode, entry

        def finished_runs():
            runs = airflow.get(
                "/api/v2/dags/every-minute/dagRuns", order_by="run_after"
            )["dag_runs"]
            return [
                r
                for r in runs
                if r["run_type"] == "scheduled" and r["state"] == "success"
            ]

        deadline = time.monotonic() + 240
        while len(finished_runs()) < 2:
            assert time.monotonic() < deadline, airflow.logs()
            time.sleep(2)
        # From the first run on: Airflow may drop the first fire after the cutover (its
        # dag-processor, re-parsing the DAG at that very second, moves a first run that
        # has no run before it to the next fire); the check since the cutover names
        # that as a missed fire, which is why --runs exists.  Here: the rules from then on.
        since = ("--since", finished_runs()[0]["run_after"].replace("Z", "+00:00"))
        since = (since[0], _just_before(since[1]))
        code, entry = verify_runs(*since)
        assert code == 0, json.dumps(entry, indent=1)
        assert entry["runs"]["scheduled_runs"] >= 2
        assert entry["runs"]["fires"] >= entry["runs"]["scheduled_runs"]
        assert entry["runs"]["task_instances_checked"] >= 2

        first, second = finished_runs()[:2]
        airflow.request(
            "POST",
            "/api/v2/dags/every-minute/clearTaskInstances",
            json={
                "dag_run_id": second["dag_run_id"],
                "dry_run": False,
                "only_failed": False,
            },
        )
        deadline = time.monotonic() + 120
        while True:
            (ti,) = airflow.task_states("every-minute", second["dag_run_id"]).values()
            if ti["state"] == "success" and ti["try_number"] == 2:
                break
            assert time.monotonic() < deadline, (ti["state"], ti["try_number"])
            time.sleep(1)
        airflow.request(
            "DELETE", f"/api/v2/dags/every-minute/dagRuns/{first['dag_run_id']}"
        )
        code, entry = verify_runs(*since)
        assert code == 1, entry
        messages = [i["message"] for i in entry["issues"] if i["kind"] == "runs differ"]
        assert any(
            m.startswith("no DAG run for the fire at ") for m in messages
        ), messages
        assert any(
            "say-hello in the run of " in m and "2 tries, Sundial allows 1" in m
            for m in messages
        ), (messages, entry["runs"], airflow.get("/api/v2/dags/every-minute/dagRuns"))
    finally:
        airflow.stop()
        sundial.stop()
