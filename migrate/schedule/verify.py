"""Prove a translated schedule: Quartz's fire times (our engine, proven against Quartz 2.3)
against Airflow's own CronTriggerTimetable, in the target zone, over a horizon.

For plain fields a cron string can only differ from Quartz around DST transitions, so the
check covers a window around every transition in the horizon plus the horizon's first five
weeks; expressions with Quartz's special day forms are checked over the whole horizon.
The reference start is fixed, so the same input always gives the same report, and results
are cached per (expression, cron, zone): estates repeat the same few schedules many times.

Airflow's side is stepped by :class:`AirflowCron`: ``CronTriggerTimetable._get_next`` with
Airflow's own helpers, minus the per-call croniter and pendulum objects (held to the real
method by tests/schedule/test_verify_fast.py).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from migrate.schedule.translate import restricts_years
from migrate.sundial.model import CronSchedule

PROOF_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEFAULT_HORIZON_DAYS = 730
_WINDOW = timedelta(
    hours=12
)  # DST effects on plain fields stay within the changed hour
_SAMPLE_FIRES = 50
FIRST_FIRES = 8
_MAX_FIRES = 200_000


@dataclass(frozen=True)
class Verification:
    exact: bool
    checked: int  # fire times compared
    scope: str  # what was compared, in words
    differences: tuple[
        tuple[datetime | None, datetime | None], ...
    ]  # (quartz, airflow) pairs
    # the first FIRST_FIRES fire times from the start on each side (quartz, airflow), for
    # a report to show next to each other
    first_fires: tuple[tuple[datetime, ...], tuple[datetime, ...]] = ((), ())

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


class AirflowCron:
    """``CronTriggerTimetable(cron, timezone=tz)._get_next``, step for step, made cheap.

    Airflow's method (airflow/timetables/_cron.py, ``CronMixin._get_next``) does, per call::

        naive = make_naive(current, tz)
        cron = croniter(expression, start_time=naive)
        scheduled = cron.get_next(datetime)
        if not _covers_every_hour(cron):
            return convert_to_utc(make_aware(scheduled, tz))
        return convert_to_utc(current.in_timezone(tz) + (scheduled - naive))

    This runs the same steps with Airflow's own expression (``cron_presets``), zone
    (``parse_timezone``), ``make_naive``, ``make_aware`` and ``_covers_every_hour``.  What
    it saves is the per-call work that cannot change the answer:

    * the expression is parsed into one croniter, not one per call (its ``expanded``
      fields do not depend on the start time); ``get_next(start_time=naive)`` repositions
      it exactly as the constructor does;
    * for plain fields (numbers, lists, ranges, steps: no ``L``, ``W`` or ``#``), the
      next naive time croniter's ``get_next`` returns is looked up in croniter's own
      ``expanded`` sets (:class:`_PlainCron`) instead of croniter's field-by-field search
      with relativedelta; special forms, and anything not found within four years, go to
      croniter itself;
    * no pendulum objects: ``convert_to_utc`` only re-wraps the instant, and pendulum's
      ``+ timedelta`` adds exact seconds on the UTC time line, as stdlib aware arithmetic
      does.

    Instants are stdlib aware datetimes in UTC.  tests/schedule/test_verify_fast.py holds
    this to the real method (and _PlainCron to croniter) over random expressions, zones
    and instants around DST changes.
    """

    def __init__(self, cron: str, tz: str) -> None:
        from airflow._shared.timezones.timezone import (
            make_aware,
            make_naive,
            parse_timezone,
        )
        from airflow.timetables._cron import _covers_every_hour
        from airflow.utils.dates import cron_presets
        from croniter import croniter

        self._make_naive, self._make_aware = make_naive, make_aware
        # what CronMixin.__init__ keeps (it also writes a description, which costs more
        # than the whole proof and plays no part in scheduling)
        self.expression: str = cron_presets.get(cron, cron)
        self.zone = parse_timezone(tz)
        self._croniter = croniter
        self._cron = croniter(
            self.expression, start_time=PROOF_START.replace(tzinfo=None)
        )
        self._every_hour = _covers_every_hour(self._cron)
        self._plain = _PlainCron.of(self._cron)
        # croniter's '*#n' handling rewrites its nth-weekday sets in place while it
        # computes; a kept instance would carry that over, so such forms get a new one
        # per call, as Airflow does.
        self._reuse = "*" not in self._cron.nth_weekday_of_month

    def naive_next(self, naive: datetime) -> datetime:
        """What ``croniter(expression, start_time=naive).get_next(datetime)`` returns."""
        if self._plain is not None:
            scheduled = self._plain.next_after(naive)
            if scheduled is not None:
                return scheduled
        if self._reuse:
            return self._cron.get_next(datetime, start_time=naive)
        return self._croniter(self.expression, start_time=naive).get_next(datetime)

    def next_after(self, current: datetime) -> datetime:
        """The first fire time after ``current`` (aware), as an aware UTC datetime."""
        naive = self._make_naive(current, self.zone)
        scheduled = self.naive_next(naive)
        if not self._every_hour:
            return self._make_aware(scheduled, self.zone).astimezone(timezone.utc)
        return current.astimezone(timezone.utc) + (scheduled - naive)

    def fires(
        self, lo: datetime, hi: datetime, limit: int = _MAX_FIRES
    ) -> list[datetime]:
        """Every fire time in [lo, hi), as Airflow's scheduler steps through them."""
        out: list[datetime] = []
        t = lo - timedelta(seconds=1)
        while len(out) < limit:
            t = self.next_after(t)
            if t >= hi:
                break
            out.append(t)
        return out


class _PlainCron:
    """croniter's next naive fire time for a 5-field expression of plain fields, from its
    own ``expanded`` sets: the first minute after ``naive`` whose month, day, hour and
    minute are in the sets, where a day matches its day-of-month or its day-of-week when
    both are restricted (croniter's ``day_or``), else the restricted one."""

    _SEARCH_DAYS = 4 * 366  # beyond this (Feb 29 and the like), ask croniter itself

    def __init__(self, expanded) -> None:
        minutes, hours, doms, months, dows = expanded
        minutes = range(60) if minutes == ["*"] else minutes
        hours = range(24) if hours == ["*"] else hours
        self.times = [h * 60 + m for h in hours for m in minutes]  # sorted, as both are
        self.months = None if months == ["*"] else frozenset(months)
        self.doms = None if doms == ["*"] else frozenset(doms)
        self.dows = None if dows == ["*"] else frozenset(dows)  # 0 = Sunday

    @classmethod
    def of(cls, cron) -> _PlainCron | None:
        expanded = cron.expanded
        if (
            len(expanded) != 5
            or cron.nth_weekday_of_month
            or cron.nearest_weekday
            or not all(
                field == ["*"]
                or (
                    bool(field)
                    and all(type(v) is int for v in field)
                    and field == sorted(field)
                )
                for field in expanded
            )
        ):
            return None
        return cls(expanded)

    def _day(self, ordinal: int, day: int) -> bool:
        doms, dows = self.doms, self.dows
        if doms is None:
            return dows is None or ordinal % 7 in dows  # ordinal 7 is a Sunday
        if dows is None:
            return day in doms
        return day in doms or ordinal % 7 in dows

    def next_after(self, naive: datetime) -> datetime | None:
        """The first match after ``naive``'s minute (croniter adds a minute and drops the
        seconds), or None when there is none within _SEARCH_DAYS."""
        start = naive.replace(second=0, microsecond=0) + timedelta(minutes=1)
        times, months = self.times, self.months
        d = start.date()
        o = d.toordinal()
        if (months is None or d.month in months) and self._day(o, d.day):
            i = bisect_left(times, start.hour * 60 + start.minute)
            if i < len(times):
                return datetime(d.year, d.month, d.day, *divmod(times[i], 60))
        last = o + self._SEARCH_DAYS
        o += 1
        while o <= last:
            d = date.fromordinal(o)
            if months is not None and d.month not in months:
                o = (
                    date(d.year + 1, 1, 1)
                    if d.month == 12
                    else date(d.year, d.month + 1, 1)
                ).toordinal()
                continue
            if self._day(o, d.day):
                return datetime(d.year, d.month, d.day, *divmod(times[0], 60))
            o += 1
        return None


def _quartz_timetable_fires(
    expression: str, tz: str, lo: datetime, hi: datetime, timetable=None
) -> list[datetime]:
    """The run times Airflow's scheduler entry point (``next_dagrun_info_v2``, catchup on,
    so every run is listed) derives from the generated Quartz timetable (``timetable``:
    one already built for expression and zone; it keeps no state between calls)."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    if timetable is None:
        timetable = _quartz_timetable(expression, tz)
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


def _quartz_timetable(expression: str, tz: str):
    from migrate.support.sundial_compat.timetable import QuartzTimetable

    return QuartzTimetable(expression, timezone=tz)


def quartz_engine(schedule: CronSchedule):
    """The Quartz engine for a Sundial cron schedule, read as Sundial reads it."""
    from migrate.quartz import QuartzCron

    return QuartzCron.parse(
        schedule.minutes,
        schedule.hours,
        schedule.day_of_month,
        schedule.month,
        schedule.day_of_week,
    )


def is_special(schedule: CronSchedule) -> bool:
    """Quartz's day forms (L, W, #), fire dates that depend on the month, and a year field
    (fires that stop, or start, within the horizon): checked in full."""
    if any(c in (schedule.day_of_month + schedule.day_of_week).upper() for c in "LW#"):
        return True
    return restricts_years(quartz_engine(schedule))


@lru_cache(maxsize=4096)
def verify_cron(
    schedule: CronSchedule,
    cron: str,
    tz: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    start: datetime = PROOF_START,
) -> Verification:
    """Quartz's fire times against ``CronTriggerTimetable(cron, timezone=tz)``."""
    # one croniter for the whole proof, private to this call (it is repositioned per step)
    return _verify(
        schedule,
        AirflowCron(cron, tz).fires,
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
    timetable = _quartz_timetable(expression, tz)  # parsed once, for every window
    return _verify(
        schedule,
        lambda lo, hi: _quartz_timetable_fires(expression, tz, lo, hi, timetable),
        tz,
        horizon_days,
        start,
    )


def _verify(schedule, airflow_fires, tz, horizon_days, start) -> Verification:
    engine = quartz_engine(schedule)
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
    first: tuple[tuple[datetime, ...], tuple[datetime, ...]] = ((), ())
    for lo, hi in windows:
        if sample and lo == start:
            # this window opens with the sample, already computed: continue after it
            quartz = sample[:]
            if hi > sample_end:
                quartz += _quartz_fires(
                    engine, tz, sample_end, hi, _MAX_FIRES - len(sample)
                )
        else:
            quartz = _quartz_fires(engine, tz, lo, hi)
        airflow = airflow_fires(lo, hi)
        if lo == start:  # the windows are in time order: this one opens the horizon
            first = (tuple(quartz[:FIRST_FIRES]), tuple(airflow[:FIRST_FIRES]))
        checked += len(quartz)
        differences.extend(pair_differences(quartz, airflow))
    # nothing compared proves nothing: a schedule with no fire time in the horizon is
    # never called exact
    exact = checked > 0 and not differences
    return Verification(exact, checked, scope, tuple(differences), first)


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
