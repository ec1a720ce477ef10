"""Quartz 2.3 cron fields, read structurally for translation into Unix cron.

This is not the schedule oracle (that is ``migrate.quartz``): it only reads the five fields
Sundial stores into sets of values plus the special day forms (``L``, ``W``, ``#``), following
Quartz's own rules for names, steps and wrap-around ranges (``CronExpression.addToSet``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # Quartz: SUN=1 ... SAT=7

# (minimum, maximum, wrap modulus, names) per field
_FIELDS = {
    "minutes": (0, 59, 60, None),
    "hours": (0, 23, 24, None),
    "day_of_month": (1, 31, 31, None),
    "month": (1, 12, 12, MONTHS),
    "day_of_week": (1, 7, 7, DAYS),
}


class FieldError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DayForm:
    """A day field that is not a plain set: Quartz's special characters."""

    kind: str  # "L", "L-n", "nW", "LW" (day of month); "nL", "n#k" (day of week)
    day: int = 0
    nth: int = 0


@dataclass(frozen=True)
class QuartzFields:
    minutes: frozenset[int]
    hours: frozenset[int]
    month: frozenset[int]
    # None means "?" (no specific value); a frozenset means plain values; a DayForm a special.
    day_of_month: frozenset[int] | DayForm | None
    day_of_week: frozenset[int] | DayForm | None


def parse_fields(
    minutes: str, hours: str, dom: str, month: str, dow: str
) -> QuartzFields:
    return QuartzFields(
        minutes=_values("minutes", minutes),
        hours=_values("hours", hours),
        month=_values("month", month),
        day_of_month=_day("day_of_month", dom),
        day_of_week=_day("day_of_week", dow),
    )


def _day(field: str, text: str) -> frozenset[int] | DayForm | None:
    text = text.strip().upper()
    if text == "?":
        return None
    if field == "day_of_month":
        if text == "L":
            return DayForm("L")
        if text == "LW":
            return DayForm("LW")
        m = re.fullmatch(r"L-(\d+)", text)
        if m:
            return DayForm("L-n", day=int(m.group(1)))
        m = re.fullmatch(r"(\d+)W", text)
        if m:
            return DayForm("nW", day=int(m.group(1)))
    else:
        m = re.fullmatch(r"(\d|[A-Z]{3})L", text)
        if m:
            return DayForm("nL", day=_number(field, m.group(1)))
        if text == "L":
            return frozenset({7})  # Quartz: a lone L in day-of-week means Saturday
        m = re.fullmatch(r"(\d|[A-Z]{3})#(\d)", text)
        if m:
            return DayForm("n#k", day=_number(field, m.group(1)), nth=int(m.group(2)))
    return _values(field, text)


def _number(field: str, token: str) -> int:
    low, high, _, names = _FIELDS[field]
    token = token.strip().upper()
    if names and token in names:
        return names.index(token) + 1
    if not token.isdigit():
        raise FieldError(
            field, f"{token!r} is not a number" + (" or name" if names else "")
        )
    value = int(token)
    if not low <= value <= high:
        raise FieldError(field, f"{value} is out of range {low}-{high}")
    return value


def _values(field: str, text: str) -> frozenset[int]:
    low, high, modulus, _ = _FIELDS[field]
    result: set[int] = set()
    for part in text.strip().upper().split(","):
        if not part:
            raise FieldError(field, "empty list element")
        step = 0
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise FieldError(field, f"bad step {step_text!r}")
            step = int(step_text)
        if part in ("*", "?"):
            start, stop = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            start, stop = _number(field, a), _number(field, b)
        else:
            start = _number(field, part)
            stop = high if step else start
        incr = step or 1
        if stop < start:  # wrap-around range, as Quartz's addToSet does it
            stop += modulus
        for i in range(start, stop + 1, incr):
            v = i % modulus if i > high else i
            if v == 0 and low == 1:
                v = modulus
            result.add(v)
    return frozenset(result)
