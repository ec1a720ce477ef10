"""Error reporting: rejected expressions raise QuartzSyntaxError naming the Sundial field."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from migrate.quartz import QuartzCron, QuartzRuntimeError, QuartzSyntaxError

from .oracle import python_result

# (minutes, hours, day_of_month, month, day_of_week) -> field expected in the error
REJECTED = [
    (("60", "*", "?", "*", "*"), "minutes"),
    (("*/60", "*", "?", "*", "*"), "minutes"),
    (("5-", "*", "?", "*", "*"), "minutes"),
    (("MON", "*", "?", "*", "*"), "minutes"),
    (("0", "24", "?", "*", "*"), "hours"),
    (("0", "1-25", "?", "*", "*"), "hours"),
    (("0", "3/x", "?", "*", "*"), "hours"),
    (("0", "?", "?", "*", "MON"), "hours"),
    (("0", "0", "32", "*", "?"), "day_of_month"),
    (("0", "0", "L-31", "*", "?"), "day_of_month"),
    (("0", "0", "L,15", "*", "?"), "day_of_month"),
    (("0", "0", "15L", "*", "?"), "day_of_month"),
    (("0", "0", "32W", "*", "?"), "day_of_month"),
    (("0", "0", "1", "13", "?"), "month"),
    (("0", "0", "1", "FOO", "?"), "month"),
    (("0", "0", "1", "JAN-", "?"), "month"),
    (("0", "0", "?", "*", "8"), "day_of_week"),
    (("0", "0", "?", "*", "0"), "day_of_week"),
    (("0", "0", "?", "*", "MON#6"), "day_of_week"),
    (("0", "0", "?", "*", "2#1,3#2"), "day_of_week"),
    (("0", "0", "?", "*", "6L,2"), "day_of_week"),
    (("0", "0", "?", "*", "8L"), "day_of_week"),
    (("0", "0", "?", "*", "FUN"), "day_of_week"),
    (("0", "0", "?", "*", "?"), "day_of_week"),
    (("0", "0", "1", "*", "MON"), "day_of_month/day_of_week"),
    (("0", "0", "*", "*", "*"), "day_of_month/day_of_week"),
]


@pytest.mark.parametrize("fields,field", REJECTED)
def test_error_names_field(fields, field):
    with pytest.raises(QuartzSyntaxError) as info:
        QuartzCron.parse(*fields)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field
    assert str(err).startswith(field + ": ")


def test_out_of_range_message():
    with pytest.raises(QuartzSyntaxError) as info:
        QuartzCron.parse("0", "12", "?", "*", "8")
    assert str(info.value) == "day_of_week: '8' is out of range 1-7 (SUN=1 ... SAT=7)"


def test_missing_field_is_named():
    with pytest.raises(QuartzSyntaxError) as info:
        QuartzCron.parse_expression("0 0 12 * *")
    assert info.value.field == "day_of_week"


def test_rejections_agree_with_quartz(oracle):
    reqs = [("UTC", "0 " + " ".join(f), 0, 0) for f, _ in REJECTED]
    for req, j in zip(reqs, oracle.run(reqs)):
        assert j.kind == "err", (req, j)
        assert python_result(*req).kind == "err"


def test_accepted_but_unusable_raises_at_evaluation():
    # Quartz silently drops 'L' outside the day fields, leaving minutes empty
    cron = QuartzCron.parse("L", "*", "?", "*", "*")
    with pytest.raises(QuartzRuntimeError):
        cron.next_fire_after(datetime(2024, 1, 1, tzinfo=timezone.utc), "UTC")


def test_naive_instant_rejected():
    cron = QuartzCron.parse("0", "12", "*", "*", "?")
    with pytest.raises(ValueError):
        cron.next_fire_after(datetime(2024, 1, 1), "UTC")


def test_fire_times_window():
    cron = QuartzCron.parse("0", "12", "*", "*", "?")
    start = datetime(2024, 1, 1, 12, tzinfo=timezone.utc)
    end = datetime(2024, 1, 4, 12, tzinfo=timezone.utc)
    got = list(cron.fire_times(start, end, "UTC"))
    assert got == [datetime(2024, 1, d, 12, tzinfo=timezone.utc) for d in (2, 3, 4)]
