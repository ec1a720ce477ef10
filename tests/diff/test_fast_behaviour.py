"""The diff's fast path for CronTriggerTimetable is the scheduler's own loop.

``schedules._behaviour`` lists a plain ``CronTriggerTimetable``'s runs with
``verify.AirflowCron`` (``_fast_cron_times``) instead of calling ``next_dagrun_info_v2``
once per run (``_walk``, which every other timetable still takes).  These properties hold
the two to the same list of run_after instants and the same truncation flag: random cron
strings (lists, ranges, steps, both day fields, months), zones with 1-hour, 30-minute and
no DST, windows starting anywhere, right on a fire time or next to a DST change, over a
few days to ~40 days.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from unittest import mock

import pendulum
from airflow.timetables.base import TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable
from croniter import CroniterBadDateError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.diff import schedules
from migrate.schedule import verify

UTC = timezone.utc
TYPE = "airflow.timetables.trigger.CronTriggerTimetable"
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kolkata",  # no DST, +05:30
]
SMALL_MAX = (
    300  # MAX_FIRES for the properties: keeps the real loop short, tests truncation
)


# ---- cron strings ---------------------------------------------------------------------


def _field(low: int, high: int, star: bool = True):
    number = st.integers(low, high)
    forms = [
        st.lists(number, min_size=1, max_size=4, unique=True).map(
            lambda v: ",".join(map(str, sorted(v)))
        ),
        st.tuples(number, number).map(lambda t: f"{min(t)}-{max(t)}"),
        st.tuples(number, st.integers(1, max(1, (high - low) // 2))).map(
            lambda t: f"{t[0]}/{t[1]}"
        ),
        st.tuples(number, number, st.integers(1, 5)).map(
            lambda t: f"{min(t[:2])}-{max(t[:2])}/{t[2]}"
        ),
        number.map(str),
    ]
    if star:
        forms.append(st.just("*"))
        forms.append(st.integers(2, max(2, (high - low) // 2)).map(lambda s: f"*/{s}"))
    return st.one_of(*forms)


crons = st.builds(
    lambda *fields: " ".join(fields),
    _field(0, 59),
    _field(0, 23),
    st.one_of(st.just("*"), _field(1, 31, star=False), _field(28, 31, star=False)),
    st.one_of(st.just("*"), _field(1, 12, star=False)),
    st.one_of(st.just("*"), _field(0, 6, star=False)),
)


# ---- start instants -------------------------------------------------------------------


@lru_cache(maxsize=None)
def _changes(tz: str) -> tuple[datetime, ...]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return verify.transitions(tz, start, start + timedelta(days=3 * 365))


@st.composite
def starts(draw, tz: str) -> datetime:
    changes = _changes(tz)
    if changes and draw(st.integers(0, 2)):  # a day either side of a DST change
        base = draw(st.sampled_from(changes))
        minutes = draw(st.integers(-36 * 60, 12 * 60))
    else:
        base = datetime(2024, 1, 1, tzinfo=UTC)
        minutes = draw(st.integers(0, 3 * 365 * 24 * 60))
    ms = draw(st.sampled_from([0, 0, 0, 1, 999, 30_000, 59_999]))
    return base + timedelta(minutes=minutes, milliseconds=ms)


# ---- the property ---------------------------------------------------------------------


def _both(cron: str, tz: str, start: datetime, days: float, on_fire: bool):
    timetable = CronTriggerTimetable(cron, timezone=tz)
    data = json.dumps(timetable.serialize())
    timetable = schedules.build_timetable(TYPE, data)  # as _behaviour gets it
    if on_fire:  # start right on a fire time
        try:
            start = timetable._get_next(pendulum.instance(start))
        except CroniterBadDateError:
            pass
    start_ms = schedules.to_ms(start)
    end_ms = start_ms + int(days * 86_400_000)
    restriction = TimeRestriction(
        earliest=pendulum.from_timestamp(start_ms / 1000, tz="UTC"),
        latest=pendulum.from_timestamp(end_ms / 1000, tz="UTC"),
        catchup=True,
    )
    try:
        real = schedules._walk(timetable, restriction, end_ms)
    except CroniterBadDateError:
        real = "raises"
    fast = schedules._fast_cron_times(timetable, data, restriction, end_ms)
    if real == "raises":
        assert fast is None  # falls back to the real loop, which raises as before
        return None, None
    assert fast is not None, (cron, tz)
    return real, fast


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    cron=crons,
    tz=st.sampled_from(ZONES),
    days=st.one_of(st.integers(2, 40), st.floats(0.01, 40)),
    on_fire=st.booleans(),
)
def test_fast_cron_times_are_the_schedulers_loop(data, cron, tz, days, on_fire):
    start = data.draw(starts(tz))
    with mock.patch.object(schedules, "MAX_FIRES", SMALL_MAX):
        real, fast = _both(cron, tz, start, days, on_fire)
    assert fast == real, (cron, tz, start.isoformat(), days, on_fire)


def test_fixed_cases_across_dst():
    """Schedules that land in gaps and folds, hourly ones (Airflow's every-hour
    arithmetic), and windows that start exactly on a fire time."""
    cases = [
        ("30 2 * * *", "America/New_York", datetime(2025, 3, 8, 7, 30, tzinfo=UTC)),
        ("30 1 * * *", "America/New_York", datetime(2025, 11, 1, 5, 30, tzinfo=UTC)),
        ("30 1 * * *", "Europe/London", datetime(2025, 10, 25, 0, 30, tzinfo=UTC)),
        ("0 2 * * *", "Australia/Lord_Howe", datetime(2025, 4, 5, 15, 0, tzinfo=UTC)),
        ("0 2 * * *", "Australia/Lord_Howe", datetime(2025, 10, 4, 15, 0, tzinfo=UTC)),
        ("*/15 * * * *", "America/New_York", datetime(2025, 11, 2, 5, 0, tzinfo=UTC)),
        (
            "0,30 * * * *",
            "Australia/Lord_Howe",
            datetime(2025, 4, 5, 14, 0, tzinfo=UTC),
        ),
        ("0 * * * *", "Europe/London", datetime(2025, 3, 30, 0, 0, tzinfo=UTC)),
        ("45 1,2 * * *", "Europe/London", datetime(2025, 3, 29, 12, 0, tzinfo=UTC)),
        ("0 0 29 2 *", "UTC", datetime(2028, 2, 1, tzinfo=UTC)),
        ("0 9 * * 1-5", "Asia/Kolkata", datetime(2025, 1, 6, 3, 30, tzinfo=UTC)),
    ]
    for cron, tz, start in cases:
        for shift in (timedelta(0), timedelta(milliseconds=1), -timedelta(minutes=1)):
            real, fast = _both(cron, tz, start + shift, 40, on_fire=False)
            assert real.times, (cron, tz)
            assert fast == real, (cron, tz, (start + shift).isoformat())


def test_truncation_matches():
    with mock.patch.object(schedules, "MAX_FIRES", 50):
        real, fast = _both(
            "*/5 * * * *", "Europe/London", datetime(2025, 3, 30, tzinfo=UTC), 2, False
        )
    assert real.truncated and len(real.times) == 50
    assert fast == real


def test_behaviour_takes_the_fast_path_only_for_plain_cron_triggers():
    start_ms = schedules.to_ms(datetime(2025, 3, 1, tzinfo=UTC))
    end_ms = start_ms + 10 * 86_400_000
    plain = json.dumps(
        CronTriggerTimetable("0 */6 * * *", timezone="Europe/London").serialize()
    )
    with mock.patch.object(schedules, "_walk", wraps=schedules._walk) as walk:
        got = schedules._behaviour(TYPE, plain, start_ms, end_ms)
    assert not walk.called and len(got.times) == 40

    shifted = json.dumps(
        CronTriggerTimetable(
            "0 */6 * * *", timezone="Europe/London", interval=timedelta(hours=1)
        ).serialize()
    )
    with mock.patch.object(schedules, "_walk", wraps=schedules._walk) as walk:
        other = schedules._behaviour(TYPE, shifted, start_ms, end_ms)
    assert walk.called and other == got  # interval moves data_interval.start only


def test_first_run_is_aligned_as_airflow_aligns_it():
    """``_align_to_next(earliest)`` keeps ``earliest`` only when
    ``_get_prev(_get_next(earliest)) == earliest``: a window starting right on a fire
    time whose next fire falls in a DST gap starts at that next fire instead."""
    cases = [
        ("30 2 * * *", "America/New_York", datetime(2025, 3, 8, 7, 30, tzinfo=UTC)),
        ("30 1 * * *", "Europe/London", datetime(2025, 3, 29, 1, 30, tzinfo=UTC)),
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            datetime(2025, 10, 3, 15, 45, tzinfo=UTC),
        ),
    ]
    for cron, tz, start in cases:
        real, fast = _both(cron, tz, start, 5, on_fire=False)
        assert fast == real, (cron, tz)
        if tz == "America/New_York":
            assert real.times[0] == schedules.to_ms(start + timedelta(days=1))
