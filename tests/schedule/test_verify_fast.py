"""The proof's fast Airflow path (verify.AirflowCron) is Airflow's own arithmetic.

verify_cron steps through Airflow's fire times with verify.AirflowCron instead of calling
``CronTriggerTimetable._get_next`` (one croniter and several pendulum objects per call).
These properties hold it to the real method: random cron strings of the shapes
translate_cron writes (and general Unix ones), zones with 1-hour, 30-minute and no DST,
and instants around their DST changes, stepping on from each result as the proof does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pendulum
import pytest
from airflow.timetables.trigger import CronTriggerTimetable
from croniter import CroniterBadDateError, croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fixtures.synthetic import CRONS
from migrate.schedule import verify
from migrate.schedule.translate import _encode, translate_cron
from migrate.sundial.model import CronSchedule

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kolkata",  # no DST, +05:30
    "America/Sao_Paulo",  # DST changes at midnight (until 2019)
    "America/Santiago",  # changes at 24:00
    "Pacific/Chatham",  # +12:45 / +13:45
]
UTC = timezone.utc
_STEPS = 4  # _get_next calls chained from each instant, as the proof chains them


# ---- cron strings ---------------------------------------------------------------------


def _set(low: int, high: int):
    """A set of field values: all, a few, or an arithmetic run (ranges and steps)."""
    number = st.integers(low, high)
    return st.one_of(
        st.just(frozenset(range(low, high + 1))),
        st.sets(number, min_size=1, max_size=5).map(frozenset),
        st.builds(
            lambda a, b, step: frozenset(range(min(a, b), max(a, b) + 1, step)),
            number,
            number,
            st.integers(1, max(1, (high - low) // 2)),
        ),
    )


def _field(low: int, high: int):
    return _set(low, high).map(lambda s: _encode(s, low, high))


# general Unix cron strings, both day fields may be restricted (croniter ORs them)
unix_crons = st.builds(
    lambda *fields: " ".join(fields),
    _field(0, 59),
    _field(0, 23),
    st.one_of(st.just("*"), _field(1, 31), _field(28, 31)),
    _field(1, 12),
    st.one_of(st.just("*"), _field(0, 6)),
)

_QUARTZ_DOW = "SUN MON TUE WED THU FRI SAT".split()


def _quartz_field(low: int, high: int):
    values = _set(low, high).map(sorted)
    return st.one_of(
        st.just("*"),
        values.map(lambda v: ",".join(map(str, v))),
        st.tuples(st.integers(low, high), st.integers(1, high)).map(
            lambda t: f"{t[0]}/{t[1]}"
        ),
        st.tuples(st.integers(low, high), st.integers(low, high)).map(
            lambda t: f"{t[0]}-{t[1]}"  # Quartz wraps around when t[0] > t[1]
        ),
    )


@st.composite
def translated_crons(draw, special: bool = False) -> str:
    """What translate_cron writes for a Quartz schedule (plain fields; with
    ``special``, also 'L', 'nW' and 'd#n')."""
    minutes = draw(_quartz_field(0, 59))
    hours = draw(_quartz_field(0, 23))
    month = draw(_quartz_field(1, 12))
    if draw(st.booleans()):
        dom = draw(_quartz_field(1, 31))
        dow = "?"
        if special and draw(st.booleans()):
            dom = draw(st.sampled_from(["L", "1W", "15W", "30W", "31W"]))
    else:
        dom = "?"
        dow = draw(
            st.one_of(
                _quartz_field(1, 7),
                st.lists(st.sampled_from(_QUARTZ_DOW), min_size=1, max_size=3).map(
                    ",".join
                ),
            )
        )
        if special and draw(st.booleans()):
            dow = f"{draw(st.integers(1, 7))}#{draw(st.integers(1, 5))}"
    # None: Quartz rejects the fields (Sundial never stored them)
    cron = translate_cron(CronSchedule(minutes, hours, dom, month, dow)).cron
    assume(cron is not None)
    return cron


# ---- instants -------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _changes(tz: str) -> tuple[datetime, ...]:
    start = datetime(2017, 1, 1, tzinfo=UTC)
    return verify.transitions(tz, start, start + timedelta(days=14 * 365))


@st.composite
def near_dst_changes(draw, tz: str) -> datetime:
    changes = _changes(tz)
    if changes and draw(st.integers(0, 9)):
        base = draw(st.sampled_from(changes))
        minutes = draw(st.integers(-8 * 60, 8 * 60))
    else:  # anywhere (and everywhere for zones without DST)
        base = datetime(2017, 1, 1, tzinfo=UTC)
        minutes = draw(st.integers(0, 14 * 365 * 24 * 60))
    second = draw(st.sampled_from([0, 0, 0, 1, 30, 59]))
    return base + timedelta(minutes=minutes, seconds=second)


# ---- the properties -------------------------------------------------------------------


def _same_steps(cron: str, tz: str, instant: datetime) -> None:
    timetable = CronTriggerTimetable(cron, timezone=tz)
    fast = verify.AirflowCron(cron, tz)
    assert fast.expression == timetable._expression
    assert fast.zone == timetable._timezone
    theirs = pendulum.instance(instant)
    ours = instant
    for step in range(_STEPS):
        try:
            theirs = timetable._get_next(theirs)
        except CroniterBadDateError:
            with pytest.raises(CroniterBadDateError):
                fast.next_after(ours)
            return
        ours = fast.next_after(ours)
        assert ours.tzinfo is UTC
        assert ours.timestamp() == theirs.timestamp(), (
            cron,
            tz,
            instant.isoformat(),
            step,
            ours.isoformat(),
            theirs.isoformat(),
        )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cron=translated_crons(), tz=st.sampled_from(ZONES))
def test_translated_crons_step_as_airflow_does(data, cron, tz):
    _same_steps(cron, tz, data.draw(near_dst_changes(tz)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cron=unix_crons, tz=st.sampled_from(ZONES))
def test_unix_crons_step_as_airflow_does(data, cron, tz):
    _same_steps(cron, tz, data.draw(near_dst_changes(tz)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cron=translated_crons(special=True), tz=st.sampled_from(ZONES))
def test_special_day_forms_step_as_airflow_does(data, cron, tz):
    _same_steps(cron, tz, data.draw(near_dst_changes(tz)))


@pytest.mark.parametrize(
    "cron",
    [
        "*/15 * * * *",  # every hour: Airflow's fold-hour arithmetic
        "0,30 * * * *",
        "30 2 * * *",  # in New York's gap
        "30 1 * * *",  # in New York's and London's repeated hour
        "0 2 * * *",  # Lord Howe's half-hour gap/fold
        "45 1,2 * * *",
        "0 0 * * *",  # Sao Paulo's midnight gap
        "0 0 29 2 *",  # once in four (or eight) years
        "0 0 31 2 *",  # never: croniter gives up
        "0 0 30 2 *",
        "0 0 31 4,6 1",  # never by date, Mondays by weekday (OR)
        "0 9 15W * *",
        "0 7 L * *",
        "0 10 * * 5#3",
    ],
)
@pytest.mark.parametrize("tz", ZONES)
def test_hand_picked_crons_around_every_change(cron, tz):
    changes = _changes(tz)[:6] or (datetime(2026, 3, 8, tzinfo=UTC),)
    for change in changes:
        for minutes in range(-150, 151, 29):
            _same_steps(cron, tz, change + timedelta(minutes=minutes))


@settings(max_examples=1500, deadline=None)
@given(
    cron=st.one_of(unix_crons, translated_crons(special=True)),
    naive=st.datetimes(datetime(1990, 1, 1), datetime(2090, 12, 31)),
)
def test_naive_next_is_croniters(cron, naive):
    """The table lookup for plain fields (and the kept croniter for the rest) against a
    fresh croniter, as Airflow builds one per call."""
    fast = verify.AirflowCron(cron, "UTC")
    try:
        expected = croniter(cron, start_time=naive).get_next(datetime)
    except CroniterBadDateError:
        with pytest.raises(CroniterBadDateError):
            fast.naive_next(naive)
        return
    assert fast.naive_next(naive) == expected, (cron, naive)


def test_plain_fields_take_the_table_and_special_forms_croniter():
    assert verify.AirflowCron("0,30 8-18 * * 1-5", "UTC")._plain is not None
    assert verify.AirflowCron("0 0 1,15 * 0", "UTC")._plain is not None
    for cron in ("0 7 L * *", "0 9 15W * *", "0 10 * * 5#3"):
        assert verify.AirflowCron(cron, "UTC")._plain is None


# ---- whole proofs -----------------------------------------------------------------------


def _reference_airflow_fires(cron, tz, lo, hi):
    """The proof's Airflow side as it was: the real method, call by call."""
    timetable = CronTriggerTimetable(cron, timezone=tz)
    out = []
    t = pendulum.instance(lo - timedelta(seconds=1))
    while True:
        t = timetable._get_next(t)
        if t >= hi:
            return out
        out.append(datetime.fromtimestamp(t.timestamp(), tz=UTC))


def _reference_quartz_fires(engine, tz, lo, hi, limit=verify._MAX_FIRES):
    out = []
    t = lo - timedelta(seconds=1)
    while len(out) < limit:
        t = engine.next_fire_after(t, tz)
        if t is None or t >= hi:
            break
        out.append(t)
    return out


def _reference_verify(schedule, airflow_fires, tz, horizon_days, start):
    """verify._verify as it was (each window's Quartz fire times computed afresh)."""
    engine = verify.quartz_engine(schedule)
    special = verify.is_special(schedule)
    end = start + timedelta(days=horizon_days)
    sample = (
        []
        if special
        else _reference_quartz_fires(engine, tz, start, end, verify._SAMPLE_FIRES)
    )
    sample_end = sample[-1] + timedelta(seconds=1) if sample else start
    checked, differences = 0, []
    for lo, hi in verify._windows(tz, start, end, special, sample_end):
        quartz = _reference_quartz_fires(engine, tz, lo, hi)
        checked += len(quartz)
        differences.extend(verify.pair_differences(quartz, airflow_fires(lo, hi)))
    return checked, tuple(differences)


_SCHEDULES = [CronSchedule(*fields) for fields in CRONS] + [
    CronSchedule("0", "0", "29", "2", "?"),
    CronSchedule("15", "*", "*", "*", "?"),
    CronSchedule("0", "1-3", "?", "MAR,OCT,NOV", "SUN"),
]


@pytest.mark.parametrize("tz", ZONES[:5])
def test_proofs_are_unchanged(tz):
    """verify_cron (fast path, Quartz sample reused) gives the proof the real method gave:
    same checked count and the same differing instants, for the estate's schedule
    shapes in every test zone."""
    kinds = set()
    for schedule in _SCHEDULES:
        cron = translate_cron(schedule).cron
        proof = verify.verify_cron.__wrapped__(schedule, cron, tz)
        checked, differences = _reference_verify(
            schedule,
            lambda lo, hi: _reference_airflow_fires(cron, tz, lo, hi),
            tz,
            verify.DEFAULT_HORIZON_DAYS,
            verify.PROOF_START,
        )
        assert (proof.checked, proof.differences) == (checked, differences), (
            schedule,
            cron,
        )
        assert proof.exact == (checked > 0 and not differences)
        kinds.add(proof.exact)
    if tz in ("America/New_York", "Australia/Lord_Howe"):
        assert kinds == {True, False}  # both outcomes are exercised


@pytest.mark.parametrize("tz", ["America/New_York", "Australia/Lord_Howe"])
def test_quartz_timetable_proofs_are_unchanged(tz):
    """One QuartzTimetable for all windows gives what one per window gave."""
    for fields in [("30", "2", "*", "*", "?"), ("*/15", "*", "*", "*", "?")]:
        schedule = CronSchedule(*fields)
        expression = schedule.quartz_expression()
        proof = verify.verify_quartz_timetable.__wrapped__(schedule, tz)
        checked, differences = _reference_verify(
            schedule,
            lambda lo, hi: verify._quartz_timetable_fires(expression, tz, lo, hi),
            tz,
            verify.DEFAULT_HORIZON_DAYS,
            verify.PROOF_START,
        )
        assert proof.exact and not differences
        assert proof.checked == checked > 0
