"""Prove a translated schedule: Quartz's fire times (our engine, proven against Quartz 2.3)
against Airflow's own CronTriggerTimetable, in the target zone, over a horizon.

For plain fields a cron string can only differ from Quartz around DST transitions, so the
check covers a window around every transition in the horizon plus the horizon's first five
weeks; expressions with Quartz's special day forms are checked over the whole horizon.
The reference start is fixed, so the same input always gives the same report, and results
are cached per (expression, cron, zone): estates repeat the same few schedules many times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from migrate.sundial.model import CronSchedule

PROOF_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEFAULT_HORIZON_DAYS = 730
_WINDOW = timedelta(
    hours=12
)  # DST effects on plain fields stay within the changed hour
_SAMPLE_FIRES = 50
_MAX_FIRES = 200_000


@dataclass(frozen=True)
class Verification:
    exact: bool
    checked: int  # fire times compared
    scope: str  # what was compared, in words
    differences: tuple[
        tuple[datetime | None, datetime | None], ...
    ]  # (quartz, airflow) pairs

    def describe(self, tz: str, limit: int = 3) -> str:
        zone = ZoneInfo(tz)

        def show(t: datetime | None) -> str:
            return (
                "no run"
                if t is None
                else t.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            )

        pairs = "; ".join(
            f"Sundial {show(q)} vs Airflow {show(a)}"
            for q, a in self.differences[:limit]
        )
        more = (
            f" (+{len(self.differences) - limit} more)"
            if len(self.differences) > limit
            else ""
        )
        return pairs + more


@lru_cache(maxsize=64)
def transitions(tz: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """UTC instants where the zone's offset changes between start and end."""
    zone = ZoneInfo(tz)
    found = []
    t = start
    prev = t.astimezone(zone).utcoffset()
    step = timedelta(hours=1)
    while t < end:
        nxt = t + step
        off = nxt.astimezone(zone).utcoffset()
        if off != prev:
            found.append(nxt)
        prev = off
        t = nxt
    return tuple(found)


def _windows(
    tz: str, start: datetime, end: datetime, full: bool
) -> list[tuple[datetime, datetime]]:
    if full:
        return [(start, end)]
    spans = [
        (start, min(end, start + timedelta(days=35)))
    ]  # trimmed to _SAMPLE_FIRES below
    spans += [
        (max(start, t - _WINDOW), min(end, t + _WINDOW))
        for t in transitions(tz, start, end)
    ]
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _quartz_fires(engine, tz: str, lo: datetime, hi: datetime) -> list[datetime]:
    out = []
    t = lo - timedelta(seconds=1)
    while len(out) < _MAX_FIRES:
        t = engine.next_fire_after(t, tz)
        if t is None or t >= hi:
            break
        out.append(t)
    return out


def _airflow_fires(cron: str, tz: str, lo: datetime, hi: datetime) -> list[datetime]:
    import pendulum
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable(cron, timezone=tz)
    out = []
    t = pendulum.instance(lo - timedelta(seconds=1))
    while len(out) < _MAX_FIRES:
        t = timetable._get_next(t)  # the method Airflow schedules with
        if t >= hi:
            break
        out.append(datetime.fromtimestamp(t.timestamp(), tz=timezone.utc))
    return out


@lru_cache(maxsize=4096)
def verify_cron(
    schedule: CronSchedule,
    cron: str,
    tz: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    start: datetime = PROOF_START,
) -> Verification:
    from migrate.quartz import QuartzCron

    engine = QuartzCron.parse(
        schedule.minutes,
        schedule.hours,
        schedule.day_of_month,
        schedule.month,
        schedule.day_of_week,
    )
    special = any(
        c in (schedule.day_of_month + schedule.day_of_week).upper() for c in "LW#"
    )
    end = start + timedelta(days=horizon_days)
    windows = _windows(tz, start, end, full=special)
    if special:
        scope = f"every fire time in {horizon_days} days from {start:%Y-%m-%d}"
    else:
        changes = len(transitions(tz, start, end))
        scope = (
            f"the first {_SAMPLE_FIRES} fire times from {start:%Y-%m-%d} and 12 hours either side of "
            f"each of the {changes} DST changes in {horizon_days} days; plain fields cannot differ "
            "elsewhere"
        )
    checked = 0
    differences: list[tuple[datetime | None, datetime | None]] = []
    for n, (lo, hi) in enumerate(windows):
        quartz = _quartz_fires(engine, tz, lo, hi)
        if n == 0 and not special and len(quartz) > _SAMPLE_FIRES:
            quartz = quartz[:_SAMPLE_FIRES]
            hi = quartz[-1] + timedelta(seconds=1)
        airflow = _airflow_fires(cron, tz, lo, hi)
        checked += len(quartz)
        qset, aset = set(quartz), set(airflow)
        only_q = sorted(qset - aset)
        only_a = sorted(aset - qset)
        # pair them up in time order so the report shows them side by side
        i = j = 0
        while i < len(only_q) or j < len(only_a):
            q = only_q[i] if i < len(only_q) else None
            a = only_a[j] if j < len(only_a) else None
            if q is not None and a is not None and abs(q - a) < timedelta(hours=3):
                differences.append((q, a))
                i += 1
                j += 1
            elif a is None or (q is not None and q < a):
                differences.append((q, None))
                i += 1
            else:
                differences.append((None, a))
                j += 1
    return Verification(not differences, checked, scope, tuple(differences))
