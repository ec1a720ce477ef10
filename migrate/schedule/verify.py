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
    tz: str, start: datetime, end: datetime, full: bool, sample_end: datetime
) -> list[tuple[datetime, datetime]]:
    if full:
        return [(start, end)]
    spans = [(start, min(end, sample_end))]  # the first _SAMPLE_FIRES fire times
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


def _quartz_fires(
    engine, tz: str, lo: datetime, hi: datetime, limit: int = _MAX_FIRES
) -> list[datetime]:
    out = []
    t = lo - timedelta(seconds=1)
    while len(out) < limit:
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


def _quartz_timetable_fires(
    expression: str, tz: str, lo: datetime, hi: datetime
) -> list[datetime]:
    """The run times Airflow's scheduler entry point (``next_dagrun_info_v2``, catchup on,
    so every run is listed) derives from the generated Quartz timetable."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    from migrate.support.sundial_compat.timetable import QuartzTimetable

    timetable = QuartzTimetable(expression, timezone=tz)
    restriction = TimeRestriction(
        earliest=pendulum.instance(lo), latest=pendulum.instance(hi), catchup=True
    )
    out: list[datetime] = []
    info = None
    while len(out) < _MAX_FIRES:
        info = timetable.next_dagrun_info_v2(
            last_dagrun_info=info, restriction=restriction
        )
        if info is None or info.run_after >= hi:
            break
        out.append(datetime.fromtimestamp(info.run_after.timestamp(), tz=timezone.utc))
    return out


def _engine(schedule: CronSchedule):
    from migrate.quartz import QuartzCron

    return QuartzCron.parse(
        schedule.minutes,
        schedule.hours,
        schedule.day_of_month,
        schedule.month,
        schedule.day_of_week,
    )


def is_special(schedule: CronSchedule) -> bool:
    """Quartz's day forms (L, W, #): fire dates that depend on the month, checked in full."""
    return any(
        c in (schedule.day_of_month + schedule.day_of_week).upper() for c in "LW#"
    )


@lru_cache(maxsize=4096)
def verify_cron(
    schedule: CronSchedule,
    cron: str,
    tz: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    start: datetime = PROOF_START,
) -> Verification:
    """Quartz's fire times against ``CronTriggerTimetable(cron, timezone=tz)``."""
    return _verify(
        schedule,
        lambda lo, hi: _airflow_fires(cron, tz, lo, hi),
        tz,
        horizon_days,
        start,
    )


@lru_cache(maxsize=4096)
def verify_quartz_timetable(
    schedule: CronSchedule,
    tz: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    start: datetime = PROOF_START,
) -> Verification:
    """Quartz's fire times against the generated ``QuartzTimetable`` as Airflow schedules
    it (the timetable delegates to the same engine, so this proves the wiring: time
    conversions, next_dagrun_info, DST)."""
    expression = schedule.quartz_expression()
    return _verify(
        schedule,
        lambda lo, hi: _quartz_timetable_fires(expression, tz, lo, hi),
        tz,
        horizon_days,
        start,
    )


def _verify(schedule, airflow_fires, tz, horizon_days, start) -> Verification:
    engine = _engine(schedule)
    special = is_special(schedule)
    end = start + timedelta(days=horizon_days)
    sample = [] if special else _quartz_fires(engine, tz, start, end, _SAMPLE_FIRES)
    sample_end = sample[-1] + timedelta(seconds=1) if sample else start
    windows = _windows(tz, start, end, special, sample_end)
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
    for lo, hi in windows:
        quartz = _quartz_fires(engine, tz, lo, hi)
        airflow = airflow_fires(lo, hi)
        checked += len(quartz)
        differences.extend(pair_differences(quartz, airflow))
    return Verification(not differences, checked, scope, tuple(differences))


def pair_differences(quartz, airflow, window=timedelta(hours=3)) -> list[tuple]:
    """The instants only one side has, paired up in time order (within ``window``) so a
    report shows them side by side.  Works on datetimes (window a timedelta) or on epoch
    milliseconds (window in milliseconds)."""
    only_q = sorted(set(quartz) - set(airflow))
    only_a = sorted(set(airflow) - set(quartz))
    out: list[tuple] = []
    i = j = 0
    while i < len(only_q) or j < len(only_a):
        q = only_q[i] if i < len(only_q) else None
        a = only_a[j] if j < len(only_a) else None
        if q is not None and a is not None and abs(q - a) < window:
            out.append((q, a))
            i, j = i + 1, j + 1
        elif a is None or (q is not None and q < a):
            out.append((q, None))
            i += 1
        else:
            out.append((None, a))
            j += 1
    return out
