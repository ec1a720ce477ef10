"""Generated DAGs with the Quartz timetable, read back from real Airflow: they load,
serialize (the timetable is registered by the shipped plugin), deserialize, and the
scheduler's entry point yields exactly the Quartz engine's fire times."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import load_dagbag, use_plugins

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
END = START + timedelta(days=365)


def _runs(timetable, start=START, end=END):
    import pendulum
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(
        earliest=pendulum.instance(start), latest=pendulum.instance(end), catchup=True
    )
    info, out = None, []
    while True:
        info = timetable.next_dagrun_info_v2(
            last_dagrun_info=info, restriction=restriction
        )
        if info is None or info.run_after >= end:
            return out
        out.append(info.run_after.timestamp())


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Australia/Lord_Howe"])
def test_generated_dags_serialize_and_run_at_quartz_times(
    tz, converted_zones, estate_processes
):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.serialization.serialized_objects import DagSerialization

    from migrate.quartz import QuartzCron
    from migrate.sundial.model import CronSchedule

    out = converted_zones[tz]
    use_plugins(out / "plugins")
    bag = load_dagbag(out / "dags")
    assert bag.import_errors == {}
    report = json.loads((out / "report" / "parity.json").read_text(encoding="utf-8"))
    quartz_dags = 0
    for entry in report["processes"]:
        process = estate_processes[entry["process"]]
        if not isinstance(process.schedule, CronSchedule):
            continue
        dag = bag.dags[entry["dag_id"]]
        data = DagSerialization.to_dict(dag)  # fails for an unregistered timetable
        timetable = coerce_to_core_timetable(dag.timetable)
        if type(timetable).__name__ == "QuartzTimetable":
            quartz_dags += 1
            back = DagSerialization.from_dict(data).timetable
            assert type(back).__name__ == "QuartzTimetable"
            assert back.serialize() == timetable.serialize()
            assert "quartz" in back.summary and tz in back.description
        engine = QuartzCron.parse_expression(process.schedule.quartz_expression())
        expected = [
            t.timestamp()
            for t in engine.fire_times(START - timedelta(seconds=1), END, tz)
            if t < END
        ]
        assert _runs(timetable) == expected, (tz, entry["process"])
    assert quartz_dags >= 3  # L-3, LW, 6L at least


def test_quartz_timetable_catchup_false_runs_the_most_recent_due_fire_once(monkeypatch):
    import pendulum
    from airflow.timetables.base import DataInterval, TimeRestriction

    import migrate.support.sundial_compat.timetable as trigger
    from migrate.support.sundial_compat.timetable import QuartzTimetable

    tt = QuartzTimetable("0 0 7 L-3 * ?", timezone="America/New_York")
    now = pendulum.datetime(2026, 3, 20, 12, tz="UTC")
    monkeypatch.setattr(trigger, "utcnow", lambda: now)
    no_catchup = TimeRestriction(earliest=None, latest=None, catchup=False)
    # last run long ago (Jan): Sundial runs ONE run, for the most recent due fire (Feb 25)
    last = pendulum.datetime(2026, 1, 28, 12, tz="UTC")
    info = tt.next_dagrun_info(
        last_automated_data_interval=DataInterval(last, last), restriction=no_catchup
    )
    assert info.run_after == pendulum.datetime(2026, 2, 25, 12, tz="UTC")  # 07:00 EST
    # after that run, the next is the next fire (Mar 28 07:00 EDT), not a back-fill
    info = tt.next_dagrun_info(
        last_automated_data_interval=info.data_interval, restriction=no_catchup
    )
    assert info.run_after == pendulum.datetime(2026, 3, 28, 11, tz="UTC")
    manual = tt.infer_manual_data_interval(run_after=now)
    assert manual.start == manual.end == now
    assert QuartzTimetable.deserialize(tt.serialize()) == tt


def test_quartz_timetable_skips_a_dst_gap_like_quartz():
    import pendulum

    from migrate.support.sundial_compat.timetable import QuartzTimetable

    tt = QuartzTimetable("0 30 2 * * ?", timezone="America/New_York")
    runs = _runs(
        tt,
        datetime(2026, 3, 7, tzinfo=timezone.utc),
        datetime(2026, 3, 10, tzinfo=timezone.utc),
    )
    days = [pendulum.from_timestamp(t, tz="America/New_York").day for t in runs]
    assert days == [7, 9]  # 02:30 does not exist on March 8: Quartz skips the day


@pytest.mark.slow
def test_airflow_dags_test_runs_a_dag_with_the_quartz_timetable(tmp_path):
    """`airflow dags test` end to end: the plugin registers the timetable in a real
    Airflow home (sqlite), the DAG is serialized, scheduled and its task runs."""
    from migrate.pipeline import convert

    marker = tmp_path / "marker.txt"
    definition = {
        "process_definition_name": "quartz-shell",
        "schedule": {
            "cron_schedule": {
                "minutes": "0",
                "hours": "7",
                "day_of_month": "L-3",
                "month": "*",
                "day_of_week": "?",
            }
        },
        "task_definitions": [
            {
                "task_definition_name": "hello",
                "dependencies": [],
                "executable": {
                    "shell_script_command": {
                        "script": f"echo quartz-ok > {marker}",
                        "environment_variables": [],
                    }
                },
                "max_attempts": 1,
                "backoff_base_seconds": 0,
                "backoff_exponent": 1.0,
                "require_explicit_success": False,
            }
        ],
        "overlap_action": "wait",
        "paused": False,
    }
    src = tmp_path / "quartz-shell.json"
    src.write_text(json.dumps(definition), encoding="utf-8")
    out = tmp_path / "airflow"
    result = convert([src], out, timezone="Europe/London")
    assert not result.problems
    assert "QuartzTimetable" in (out / "dags" / "quartz-shell.py").read_text()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(out / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(out / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'home' / 'airflow.db'}",
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    migrate_db = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate_db.returncode == 0, migrate_db.stderr[-2000:]
    plugins = subprocess.run(
        [airflow, "plugins", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "sundial_compat.timetable.QuartzTimetable" in plugins.stdout, plugins.stdout
    run = subprocess.run(
        [airflow, "dags", "test", "quartz-shell", "2026-01-28T07:00:00+00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "TimetableNotRegistered" not in output
    assert marker.read_text().strip() == "quartz-ok"  # the task really ran
    db = sqlite3.connect(tmp_path / "home" / "airflow.db")
    try:
        (state,) = db.execute(
            "select state from dag_run where dag_id = 'quartz-shell'"
        ).fetchone()
    finally:
        db.close()
    assert state == "success"
