"""QuartzTimetable plans runs by Airflow's own rules: where a cron string fires at the
same instants as the Quartz expression (UTC, plain fields), its ``next_dagrun_info`` is
``CronTriggerTimetable(cron, run_immediately=timedelta(0)).next_dagrun_info`` of the
installed Airflow, for any clock, last run, ``earliest``, ``latest`` and catchup."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.support import SUPPORT_PACKAGE
from tests.conftest import use_plugins

use_plugins(SUPPORT_PACKAGE.parent)

import sundial_compat.timetable as quartz_module  # noqa: E402

PAIRS = [  # (Quartz, the cron string that fires at the same instants in UTC)
    ("0 30 1 ? * 2-6", "30 1 * * 1-5"),
    ("0 0 5 * * ?", "0 5 * * *"),
    ("0 */15 * * * ?", "*/15 * * * *"),
    ("0 0 9 1 */2 ?", "0 9 1 */2 *"),
    ("0 45 23 ? JAN,APR,JUL,OCT 1", "45 23 * 1,4,7,10 0"),
]
START = pendulum.datetime(2026, 1, 1, tz="UTC")
moments = st.integers(0, 400 * 86400).map(lambda s: START.add(seconds=s))
on_the_minute = st.integers(0, 400 * 1440).map(lambda m: START.add(minutes=m))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    pair=st.sampled_from(PAIRS),
    now=st.one_of(moments, on_the_minute),
    last=st.none() | on_the_minute,
    earliest=st.none() | moments | on_the_minute,
    latest=st.none() | moments,
    catchup=st.booleans(),
)
def test_same_plan_as_airflows_cron_trigger_timetable(
    monkeypatch, pair, now, last, earliest, latest, catchup
):
    import airflow.timetables.trigger as trigger
    from airflow.timetables.base import DataInterval, TimeRestriction

    quartz, cron = pair
    monkeypatch.setattr(trigger, "utcnow", lambda: now)
    monkeypatch.setattr(quartz_module, "utcnow", lambda: now)
    theirs = trigger.CronTriggerTimetable(
        cron, timezone="UTC", run_immediately=timedelta(0)
    )
    ours = quartz_module.QuartzTimetable(quartz, timezone="UTC")
    last_interval = None if last is None else DataInterval(last, last)
    restriction = TimeRestriction(earliest=earliest, latest=latest, catchup=catchup)
    expected = theirs.next_dagrun_info(
        last_automated_data_interval=last_interval, restriction=restriction
    )
    got = ours.next_dagrun_info(
        last_automated_data_interval=last_interval, restriction=restriction
    )
    assert (got and (got.run_after, got.data_interval)) == (
        expected and (expected.run_after, expected.data_interval)
    )
