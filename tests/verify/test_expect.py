"""The next-run rule of `migrate verify`, held against Airflow's own planning code.

The oracle is the Quartz timetable the DAGs use (``next_dagrun_info``: Airflow's
``CronTriggerTimetable`` rules with Quartz's fire times, held to Airflow's own code by
tests/support/test_timetable_rules.py), called as the DAG processor and the scheduler
call it for a ``catchup=False`` DAG without start_date, at a chosen "now" (the one
boundary replaced: the clock).  Whatever Airflow plans for the
Sundial schedule must be accepted; a plan for another schedule must not be.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.support import SUPPORT_PACKAGE
from migrate.sundial.model import ContinuousSchedule, CronSchedule
from migrate.verify.expect import QuartzFires, check_next_run, timedelta_seconds
from tests.conftest import use_plugins

use_plugins(SUPPORT_PACKAGE.parent)

from sundial_compat.timetable import QuartzTimetable  # noqa: E402

UTC = timezone.utc
START = datetime(2026, 1, 1, tzinfo=UTC)

SCHEDULES = [
    CronSchedule("30", "1", "?", "*", "2-6"),
    CronSchedule("0", "5", "*", "*", "?"),
    CronSchedule("0,30", "22-2", "?", "*", "MON-FRI"),
    CronSchedule("15", "6", "L", "*", "?"),
    CronSchedule("*/15", "*", "*", "*", "?"),
    CronSchedule("0/5", "*", "*", "*", "?"),
    CronSchedule("0", "9", "15W", "*", "?"),
    CronSchedule("0", "23", "LW", "*", "?"),
    CronSchedule("0", "7", "L-3", "*", "?"),
    CronSchedule("0", "20", "?", "*", "6L"),
    CronSchedule("5/20", "*", "*", "*", "?"),
    CronSchedule("30", "10", "?", "*", "FRI#3"),
    CronSchedule("0", "8", "?", "*/3", "2#1"),
    CronSchedule("30", "2", "*", "*", "?"),  # in the New York DST gap once a year
]
ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe"]


def ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def airflow_plan(monkeypatch, schedule, tz, at: datetime, last_fire_ms=None):
    """What Airflow stores as next_dagrun_run_after when it plans at ``at``."""
    from airflow.timetables.base import DataInterval, TimeRestriction

    monkeypatch.setattr("sundial_compat.timetable.utcnow", lambda: at.astimezone(UTC))
    tt = QuartzTimetable(schedule.quartz_expression(), timezone=tz)
    last = None
    if last_fire_ms is not None:
        f = pendulum.from_timestamp(last_fire_ms / 1000, tz="UTC")
        last = DataInterval(f, f)
    info = tt.next_dagrun_info(
        last_automated_data_interval=last,
        restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
    )
    return None if info is None else ms(info.run_after)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    schedule=st.sampled_from(SCHEDULES),
    tz=st.sampled_from(ZONES),
    offset_s=st.integers(0, 2 * 366 * 86400),
    lag_s=st.integers(0, 120),
    ran=st.booleans(),
)
def test_whatever_airflow_plans_for_the_schedule_is_accepted(
    monkeypatch, schedule, tz, offset_s, lag_s, ran
):
    planned_at = START + timedelta(seconds=offset_s)
    fires = QuartzFires(schedule.quartz_expression(), tz)
    last = fires.at_or_before(ms(planned_at)) if ran else None  # it ran its latest fire
    plan = airflow_plan(monkeypatch, schedule, tz, planned_at, last)
    now = planned_at + timedelta(seconds=lag_s)
    outcome = check_next_run(schedule, tz, plan, ms(now), ms(planned_at))
    assert outcome.problem is None
    assert outcome.sundial_next_ms == fires.after(ms(now))
    if plan > ms(now):
        assert plan == outcome.sundial_next_ms  # not due: it is exactly Sundial's next


@pytest.mark.parametrize(
    "edited",
    [
        CronSchedule("17", "5", "*", "*", "?"),
        CronSchedule("0", "6", "*", "*", "?"),
        CronSchedule("0", "5", "?", "*", "MON-FRI"),
    ],
)
def test_a_plan_for_another_schedule_is_a_difference(monkeypatch, edited):
    """Every plan that is not a Sundial fire is flagged; a weekday-only edit is seen
    on the days it plans differently (the weekend), not on the days it agrees."""
    sundial = CronSchedule("0", "5", "*", "*", "?")
    fires = QuartzFires(sundial.quartz_expression(), "UTC")
    flagged = 0
    for hours in range(0, 14 * 24, 5):
        at = datetime(2026, 3, 2, 1, tzinfo=UTC) + timedelta(hours=hours)
        plan = airflow_plan(monkeypatch, edited, "UTC", at)
        outcome = check_next_run(sundial, "UTC", plan, ms(at), ms(at))
        if not fires.is_fire(plan):
            assert outcome.problem, (at, plan)
        flagged += bool(outcome.problem)
    assert flagged >= 10


def test_a_plan_left_behind_is_a_difference():
    sundial = CronSchedule("*/15", "*", "*", "*", "?")
    now = ms(datetime(2026, 5, 1, 12, 40, tzinfo=UTC))
    stale = ms(datetime(2026, 5, 1, 11, 0, tzinfo=UTC))
    outcome = check_next_run(sundial, "UTC", stale, now, now - 30_000)
    assert "has not planned this DAG since" in outcome.problem
    assert check_next_run(sundial, "UTC", None, now, now).problem.startswith(
        "Airflow plans no run"
    )


def test_manual_processes_plan_nothing():
    now = ms(START)
    assert check_next_run(None, "UTC", None, now, now).problem is None
    problem = check_next_run(None, "UTC", now + 60_000, now, now).problem
    assert "only when triggered" in problem


def test_continuous_schedules():
    now = ms(START)
    buffered = ContinuousSchedule(900)
    ok = check_next_run(buffered, "UTC", now - 5_000, now, now, summary="0:15:00")
    assert ok.problem is None and ok.note.startswith("due")
    after_run = check_next_run(
        buffered,
        "UTC",
        now + 600_000,
        now,
        now,
        summary="0:15:00",
        last_scheduled_ms=now - 300_000,
    )
    assert after_run.problem is None
    longer = check_next_run(buffered, "UTC", now, now, now, summary="0:30:00")
    assert "900 s after the previous start" in longer.problem
    late = check_next_run(
        buffered, "UTC", now + 1_500_000, now, now, "0:15:00", now - 300_000
    )
    assert "is not 900 s after the previous run" in late.problem
    none = ContinuousSchedule(None)
    assert check_next_run(none, "UTC", now, now, now, "@continuous").problem is None
    assert (
        "continuously" in check_next_run(none, "UTC", now, now, now, "0:15:00").problem
    )


@pytest.mark.parametrize("buffer, summary", [(None, "@continuous"), (900, "0:15:00")])
def test_no_plan_while_a_continuous_run_is_in_progress(buffer, summary):
    """Airflow 3.0 plans nothing for a max_active_runs=1 DAG while its run is going:
    Sundial too starts the next run only after this one; with no run going, no plan is
    still a difference."""
    now = ms(START)
    schedule = ContinuousSchedule(buffer)
    going = check_next_run(
        schedule, "UTC", None, now, now, summary, running_since_ms=now - 60_000
    )
    assert going.problem is None and going.note.startswith("a run is in progress")
    idle = check_next_run(schedule, "UTC", None, now, now, summary)
    assert idle.problem == "Airflow plans no run of this continuous process"


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("0:15:00", 900),
        ("1 day, 0:00:00", 86400),
        ("2 days, 1:02:03", 176523),
        ("0:00:01.500000", 1.5),
        ("@continuous", None),
        (None, None),
    ],
)
def test_timedelta_summaries(text, seconds):
    assert timedelta_seconds(text) == seconds
