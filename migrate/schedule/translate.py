"""Translate a Sundial (Quartz) cron schedule into a Unix cron string Airflow evaluates.

The input is read by the Quartz engine (migrate.quartz), so Quartz's own reading of the
fields (names, steps, wrap-around ranges, its quirks) is what gets translated.

Quartz and Unix cron (croniter, what Airflow evaluates) differ: day-of-week numbering,
``?``, steps that start at a value, wrap-around ranges and the special day forms.  Minutes,
hours and months are plain sets in both, so they are read into sets and written back
canonically, which is exact by construction.  The result says which parts are exact and
which need the Quartz timetable (``exact`` is False with reasons).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.quartz import QuartzCron, QuartzSyntaxError
from migrate.sundial.model import CronSchedule


@dataclass(frozen=True)
class CronTranslation:
    cron: str | None  # None: no Unix cron expression comes close
    exact: bool
    reasons: tuple[str, ...] = field(default=())


def translate_cron(schedule: CronSchedule) -> CronTranslation:
    try:
        q = QuartzCron.parse(
            schedule.minutes,
            schedule.hours,
            schedule.day_of_month,
            schedule.month,
            schedule.day_of_week,
        )
    except QuartzSyntaxError as exc:
        return CronTranslation(None, False, (str(exc),))
    reasons: list[str] = []
    if restricts_years(q):
        # Sundial joins its five fields with spaces, so a sixth token in any of them is
        # Quartz's year field; Unix cron has none, and dropping it would fire forever.
        years = sorted(y for y in q.years if y != QuartzCron.ALL_SPEC)
        shown = f"{years[0]}" if len(years) == 1 else f"{years[0]}..{years[-1]}"
        return CronTranslation(
            None,
            False,
            (
                f"the expression carries Quartz's year field (fires only in {shown}); "
                "Unix cron has no year",
            ),
        )
    dom = _dom(q, reasons)
    dow = _dow(q, reasons)
    if dom is None or dow is None:
        return CronTranslation(None, False, tuple(reasons))
    cron = " ".join(
        (
            _encode(_values(q.minutes, 0, 59), 0, 59),
            _encode(_values(q.hours, 0, 23), 0, 23),
            dom,
            _encode(_values(q.months, 1, 12), 1, 12),
            dow,
        )
    )
    return CronTranslation(cron, not reasons, tuple(reasons))


def restricts_years(q: QuartzCron) -> bool:
    """Whether Quartz read a 7th (year) field other than ``*`` from the expression."""
    return QuartzCron.ALL_SPEC not in q.years


def _values(values: frozenset[int], low: int, high: int) -> frozenset[int]:
    """Quartz's stored set without its '?' (98) and '*' (99) markers."""
    return frozenset(v for v in values if low <= v <= high)


def _dom(q: QuartzCron, reasons: list[str]) -> str | None:
    days = _values(q.days_of_month, 1, 31)
    if q.lastday_of_month:
        if q.nearest_weekday:
            reasons.append(
                "day_of_month 'LW' (last weekday) has no Unix cron equivalent"
            )
            return None
        if q.lastday_offset:
            reasons.append(
                f"day_of_month 'L-{q.lastday_offset}' has no Unix cron equivalent"
            )
            return None
        # croniter reads L in day-of-month as the last day of the month, like Quartz.
        reasons.append("day_of_month 'L' relies on croniter's 'L' (last day of month)")
        return "L"
    if q.nearest_weekday:
        (day,) = days
        reasons.append(
            f"day_of_month '{day}W' (nearest weekday) relies on croniter's 'W'"
        )
        return f"{day}W"
    if QuartzCron.NO_SPEC in q.days_of_month:
        return "*"
    return _encode(days, 1, 31)


def _dow(q: QuartzCron, reasons: list[str]) -> str | None:
    days = _values(q.days_of_week, 1, 7)
    if q.lastday_of_week:
        (day,) = days
        reasons.append(
            f"day_of_week '{day}L' (last such weekday) has no Unix cron equivalent"
        )
        return None
    if q.nthday_of_week:
        (day,) = days
        reasons.append(
            f"day_of_week '{day}#{q.nthday_of_week}' relies on croniter's '#' "
            f"(written as '{day - 1}#{q.nthday_of_week}')"
        )
        return f"{day - 1}#{q.nthday_of_week}"
    if QuartzCron.NO_SPEC in q.days_of_week:
        return "*"
    # Quartz numbers SUN=1 .. SAT=7; Unix cron SUN=0 .. SAT=6.
    return _encode(frozenset(v - 1 for v in days), 0, 6)


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
