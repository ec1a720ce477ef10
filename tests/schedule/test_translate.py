"""Quartz -> Unix cron translation: exact for plain fields, honest about the rest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.schedule.translate import _encode, translate_cron
from migrate.sundial.model import CronSchedule


@pytest.mark.parametrize(
    "fields, cron",
    [
        (("0", "5", "?", "*", "MON-FRI"), "0 5 * * 1-5"),
        (("0", "5", "?", "*", "2-6"), "0 5 * * 1-5"),  # Quartz 2-6 is MON-FRI
        (("0", "5", "?", "*", "1"), "0 5 * * 0"),  # Quartz 1 is SUNDAY
        (("0", "5", "?", "*", "SAT,SUN"), "0 5 * * 0,6"),
        (("*/15", "*", "*", "*", "?"), "*/15 * * * *"),
        (("5/20", "*", "*", "*", "?"), "5-59/20 * * * *"),
        (("0,30", "9-17", "?", "*", "MON-FRI"), "0,30 9-17 * * 1-5"),
        (("0", "22-2", "*", "*", "?"), "0 0-2,22-23 * * *"),  # wrap-around range
        (("0", "6", "1", "JAN,APR,JUL,OCT", "?"), "0 6 1 */3 *"),
        (("0", "6", "1", "*/3", "?"), "0 6 1 */3 *"),
        (("0", "6", "1", "FEB-APR,OCT", "?"), "0 6 1 2-4,10 *"),
        (("0", "0", "1,15", "*", "?"), "0 0 1,15 * *"),
    ],
)
def test_exact_translations(fields, cron):
    result = translate_cron(CronSchedule(*fields))
    assert result.cron == cron
    assert result.exact, result.reasons


@pytest.mark.parametrize(
    "fields, cron",
    [
        (("0", "5", "L", "*", "?"), "0 5 L * *"),
        (("0", "5", "15W", "*", "?"), "0 5 15W * *"),
        (("0", "5", "?", "*", "6#3"), "0 5 * * 5#3"),
    ],
)
def test_forms_croniter_reads_are_flagged_not_exact(fields, cron):
    result = translate_cron(CronSchedule(*fields))
    assert result.cron == cron and not result.exact and result.reasons


@pytest.mark.parametrize("dom, dow", [("LW", "?"), ("L-3", "?"), ("?", "6L")])
def test_forms_without_cron_equivalent(dom, dow):
    result = translate_cron(CronSchedule("0", "5", dom, "*", dow))
    assert result.cron is None and not result.exact
    assert any("no Unix cron equivalent" in r for r in result.reasons)


@given(st.sets(st.integers(0, 59), min_size=1))
def test_encoded_minute_fields_expand_back_to_the_same_set(values):
    field = _encode(frozenset(values), 0, 59)
    expanded = croniter.expand(f"{field} * * * *")[0][0]
    assert set(expanded) == set(values)


_value = {"minutes": (0, 59), "hours": (0, 23), "month": (1, 12)}


def _field(low, high, names=None):
    number = st.integers(low, high)
    single = number.map(str)
    rng = st.tuples(number, number).map(lambda t: f"{t[0]}-{t[1]}")
    step = st.tuples(number, st.integers(1, high)).map(lambda t: f"{t[0]}/{t[1]}")
    star_step = st.integers(1, high).map(lambda s: f"*/{s}")
    return st.one_of(
        st.just("*"),
        single,
        rng,
        step,
        star_step,
        st.lists(st.one_of(single, rng), min_size=1, max_size=3).map(",".join),
    )


@settings(max_examples=150, deadline=None)
@given(
    minutes=_field(0, 59),
    hours=_field(0, 23),
    dom=st.one_of(st.just("?"), _field(1, 28)),
    month=_field(1, 12),
    dow=_field(1, 7),
)
def test_translated_cron_fires_when_quartz_fires(minutes, hours, dom, month, dow):
    """Property: for plain fields the cron string fires at exactly Quartz's instants (UTC).
    The oracle is our Quartz engine (itself proven against Quartz 2.3 in tests/quartz).
    """
    quartz = pytest.importorskip("migrate.quartz")
    if dom != "?":
        dow = "?"
    schedule = CronSchedule(minutes, hours, dom, month, dow)
    try:
        engine = quartz.QuartzCron.parse(minutes, hours, dom, month, dow)
    except quartz.QuartzSyntaxError:
        return  # Quartz rejects it: Sundial never stored it
    result = translate_cron(schedule)
    assert result.exact and result.cron
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    it = croniter(result.cron, start - timedelta(seconds=1))
    now = start - timedelta(seconds=1)
    for _ in range(60):
        expected = engine.next_fire_after(now, "UTC")
        got = it.get_next(datetime)
        assert got == expected, (schedule.quartz_expression(), result.cron)
        now = expected
