"""Translate a Sundial (Quartz) cron schedule into a Unix cron string Airflow evaluates.

Quartz and Unix cron differ (shared/AIRFLOW.md "Cron dialect"): day-of-week numbering,
``?``, steps that start at a value, wrap-around ranges and the special day forms.  Minutes,
hours and months are plain sets in both, so they are read into sets and written back
canonically, which is exact by construction.  The result says which parts are exact and
which need the Quartz timetable (``exact`` is False with reasons).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.schedule.quartz_fields import (
    DayForm,
    FieldError,
    QuartzFields,
    parse_fields,
)
from migrate.sundial.model import CronSchedule


@dataclass(frozen=True)
class CronTranslation:
    cron: str | None  # None: no Unix cron expression comes close
    exact: bool
    reasons: tuple[str, ...] = field(default=())


def translate_cron(schedule: CronSchedule) -> CronTranslation:
    try:
        q = parse_fields(
            schedule.minutes,
            schedule.hours,
            schedule.day_of_month,
            schedule.month,
            schedule.day_of_week,
        )
    except FieldError as exc:
        return CronTranslation(None, False, (str(exc),))
    reasons: list[str] = []
    dom, dom_exact = _dom(q, reasons)
    dow, dow_exact = _dow(q, reasons)
    if dom is None or dow is None:
        return CronTranslation(None, False, tuple(reasons))
    cron = " ".join(
        (
            _encode(q.minutes, 0, 59),
            _encode(q.hours, 0, 23),
            dom,
            _encode(q.month, 1, 12),
            dow,
        )
    )
    return CronTranslation(cron, dom_exact and dow_exact, tuple(reasons))


def _dom(q: QuartzFields, reasons: list[str]) -> tuple[str | None, bool]:
    value = q.day_of_month
    if value is None:
        return "*", True
    if isinstance(value, frozenset):
        return _encode(value, 1, 31), True
    if value.kind == "L":
        # croniter reads L in day-of-month as the last day of the month, like Quartz.
        reasons.append("day_of_month 'L' relies on croniter's 'L' (last day of month)")
        return "L", False
    if value.kind == "nW":
        reasons.append(
            f"day_of_month '{value.day}W' (nearest weekday) has no exact Unix cron form; "
            "croniter's 'W' differs from Quartz at month edges"
        )
        return f"{value.day}W", False
    reasons.append(
        f"day_of_month {_day_form_text(value)!r} has no Unix cron equivalent"
    )
    return None, False


def _dow(q: QuartzFields, reasons: list[str]) -> tuple[str | None, bool]:
    value = q.day_of_week
    if value is None:
        return "*", True
    if isinstance(value, frozenset):
        # Quartz numbers SUN=1 .. SAT=7; Unix cron SUN=0 .. SAT=6.
        return _encode(frozenset(v - 1 for v in value), 0, 6), True
    if value.kind == "n#k":
        reasons.append(
            f"day_of_week '{value.day}#{value.nth}' relies on croniter's '#' "
            f"(written as '{value.day - 1}#{value.nth}')"
        )
        return f"{value.day - 1}#{value.nth}", False
    reasons.append(f"day_of_week {_day_form_text(value)!r} has no Unix cron equivalent")
    return None, False


def _day_form_text(form: DayForm) -> str:
    return {
        "L": "L",
        "LW": "LW",
        "L-n": f"L-{form.day}",
        "nW": f"{form.day}W",
        "nL": f"{form.day}L",
        "n#k": f"{form.day}#{form.nth}",
    }[form.kind]


def _encode(values: frozenset[int], low: int, high: int) -> str:
    """A canonical Unix cron field for a set of values (``*``, ``a-b/s``, ranges, lists)."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) >= 3:
        step = ordered[1] - ordered[0]
        if all(b - a == step for a, b in zip(ordered, ordered[1:])) and step > 1:
            if (
                ordered[-1] + step > high
            ):  # the progression runs to the end of the field
                start = ordered[0]
                if start == low:
                    return f"*/{step}"
                return f"{start}-{high}/{step}"
            return f"{ordered[0]}-{ordered[-1]}/{step}"
    parts: list[str] = []
    run_start = prev = ordered[0]
    for v in ordered[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(run_start) if run_start == prev else f"{run_start}-{prev}")
        if v is not None:
            run_start = prev = v
    return ",".join(parts)
