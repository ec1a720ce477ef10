"""At cutover a DAG's first run is the next fire time, never a past one Sundial may have
run already.  Airflow's CronTriggerTimetable otherwise runs the latest past fire when it
is less than a tenth of the interval (at least 5 minutes) ago, even with its
run_immediately left False."""

from __future__ import annotations

import pendulum

from migrate.support import SUPPORT_PACKAGE
from tests.conftest import use_plugins
from tests.convert.test_process import model_of, task


def _first_run(timetable):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    core = coerce_to_core_timetable(timetable)
    info = core.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
    )
    return info.run_after


def _every_minute_dag(tmp_path, day_of_week="?"):
    from migrate.codegen.python import render_dag
    from tests.conftest import load_dagbag

    every_minute = {
        "cron_schedule": {
            "minutes": "*",
            "hours": "*",
            "day_of_month": "*" if day_of_week == "?" else "?",
            "month": "*",
            "day_of_week": day_of_week,
        }
    }
    model = model_of(task("a"), schedule=every_minute)
    (tmp_path / "dag.py").write_text(render_dag(model))
    use_plugins(SUPPORT_PACKAGE.parent)
    (dag,) = load_dagbag(tmp_path).dags.values()
    return dag


def test_a_cron_dag_waits_for_the_next_fire(tmp_path):
    from airflow.sdk.definitions.timetables.trigger import CronTriggerTimetable

    dag = _every_minute_dag(tmp_path)
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    now = pendulum.now("UTC")
    assert _first_run(dag.timetable) > now
    # what Airflow does without it: the minute that just passed
    assert _first_run(CronTriggerTimetable("* * * * *", timezone="UTC")) <= now


def test_the_quartz_timetable_waits_for_the_next_fire_too():
    use_plugins(SUPPORT_PACKAGE.parent)
    from sundial_compat.timetable import QuartzTimetable

    now = pendulum.now("UTC")
    assert _first_run(QuartzTimetable("0 * * * * ?", timezone="UTC")) > now
