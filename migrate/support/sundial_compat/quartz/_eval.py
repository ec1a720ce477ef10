"""Port of Quartz 2.3.2 ``CronExpression.getTimeAfter`` on an emulated lenient GregorianCalendar.

The Java algorithm steps field by field (second, minute, hour, day, month, year) on a
``java.util.Calendar`` and restarts ("continue") whenever a field had to move.  Its DST
behaviour is entirely a by-product of *when* the calendar recomputes its instant from its
wall-clock fields (every ``set`` followed by a ``get``), so the emulation tracks exactly that:

* ``dirty`` mirrors ``Calendar.isTimeSet == false``;
* :func:`_norm` is ``computeTime`` + ``computeFields`` (lenient overflow, wall->UTC through
  :meth:`Zone.java_wall_offset`, then fields from the instant);
* ``set(field, v)`` with ``v`` equal to the current, already normalised value is treated as a
  no-op.  That is exact: a normalised state is a fixed point of renormalisation (the wall->UTC
  rule always picks the later instant, and fields computed from such an instant map back to
  it).  The only non-fixed-point state is the one right after ``setTime`` - and Quartz
  immediately dirties that with ``set(MILLISECOND, 0)``, which we honour.
"""

from __future__ import annotations

from bisect import bisect_left

from ._parse import (
    ALL_SPEC,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    HOUR,
    MAX_YEAR,
    MINUTE,
    MONTH,
    NO_SPEC,
    SECOND,
    YEAR,
    ParsedCron,
)
from ._tz import Zone, days_to_ymd, month_start_days

__all__ = ["QuartzRuntimeError", "QuartzInfiniteLoopError", "Evaluator"]

DAY = 86400


class QuartzRuntimeError(RuntimeError):
    """Quartz accepted the expression but ``getNextValidTimeAfter`` throws for it.

    Example: ``minutes='L'`` parses (the 'L' is silently dropped) but leaves the minutes set
    empty, so Quartz throws ``java.util.NoSuchElementException`` at evaluation time.
    """


class QuartzInfiniteLoopError(QuartzRuntimeError):
    """Quartz's ``getNextValidTimeAfter`` never returns for this expression/instant.

    E.g. ``day_of_month='0W'`` or ``'L-30W'``: the 'W' arithmetic makes the Java loop bounce
    between two calendar states forever.  We detect the cycle and raise instead of hanging.
    """


_CYCLE_CHECK_AFTER = 20000


def _is_leap(y: int) -> bool:
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


_MLEN = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _ldom(mon: int, year: int) -> int:
    """getLastDayOfMonth(monthNum 1-12, year)."""
    if mon == 2:
        return 29 if _is_leap(year) else 28
    if 1 <= mon <= 12:
        return _MLEN[mon - 1]
    raise QuartzRuntimeError(
        f"java.lang.IllegalArgumentException: Illegal month number: {mon}"
    )


def _norm(zone: Zone, y, mo, d, h, mi, s):
    """computeTime + computeFields -> (utc, y, mo0, d, h, mi, s, dow)."""
    days = month_start_days(y, mo) + d - 1
    wall = days * DAY + h * 3600 + mi * 60 + s
    off = zone.java_wall_offset(wall)
    utc = wall - off
    off2 = zone.utc_offset(utc)
    if off2 != off:  # wall time fell into a gap: fields come from the shifted instant
        wall = utc + off2
    elif (
        0 <= mo <= 11
        and 1 <= d <= 28
        and 0 <= h <= 23
        and 0 <= mi <= 59
        and 0 <= s <= 59
    ):
        return utc, y, mo, d, h, mi, s, (days + 4) % 7 + 1
    days, sod = divmod(wall, DAY)
    y, mo, d = days_to_ymd(days)
    h, r = divmod(sod, 3600)
    mi, s = divmod(r, 60)
    return utc, y, mo, d, h, mi, s, (days + 4) % 7 + 1


def _fields(zone: Zone, t: int):
    wall = t + zone.utc_offset(t)
    days, sod = divmod(wall, DAY)
    y, mo, d = days_to_ymd(days)
    h, r = divmod(sod, 3600)
    mi, s = divmod(r, 60)
    return y, mo, d, h, mi, s, (days + 4) % 7 + 1


class _Sorted:
    """A TreeSet<Integer> with fast ``tailSet(x).first()`` lookups."""

    __slots__ = ("vals", "table", "first", "last", "empty")

    def __init__(self, values):
        self.vals = tuple(sorted(values))
        self.empty = not self.vals
        self.first = self.vals[0] if self.vals else None
        self.last = self.vals[-1] if self.vals else None
        tbl = []
        for x in range(0, 101):
            k = bisect_left(self.vals, x)
            tbl.append(self.vals[k] if k < len(self.vals) else None)
        self.table = tbl

    def ceil(self, x):
        if 0 <= x <= 100:
            return self.table[x]
        k = bisect_left(self.vals, x)
        return self.vals[k] if k < len(self.vals) else None


def _no_such_element() -> QuartzRuntimeError:
    return QuartzRuntimeError(
        "java.util.NoSuchElementException (a field has no values)"
    )


class Evaluator:
    """``getTimeAfter`` for one parsed expression."""

    def __init__(self, p: ParsedCron):
        self.p = p
        sets = p.sets
        self.seconds = _Sorted(sets[SECOND])
        self.minutes = _Sorted(sets[MINUTE])
        self.hours = _Sorted(sets[HOUR])
        self.dom = _Sorted(sets[DAY_OF_MONTH])
        self.months = _Sorted(sets[MONTH])
        self.dow = _Sorted(sets[DAY_OF_WEEK])
        self.years = _Sorted(sets[YEAR])
        self.dom_spec = NO_SPEC not in sets[DAY_OF_MONTH]
        self.dow_spec = NO_SPEC not in sets[DAY_OF_WEEK]
        self.has_all_dom = ALL_SPEC in sets[DAY_OF_MONTH]

    # ------------------------------------------------------------------------------------
    def time_after(self, after_ms: int, zone: Zone) -> int | None:
        """Epoch millis of getNextValidTimeAfter(new Date(after_ms)) or None."""
        p = self.p
        seconds, minutes, hours = self.seconds, self.minutes, self.hours
        dom_set, months, dow_set, years = self.dom, self.months, self.dow, self.years
        s_tab, m_tab, h_tab = seconds.table, minutes.table, hours.table
        norm = _norm

        after_ms += 1000
        t0 = after_ms // 1000  # cl.setTime(afterTime); cl.set(MILLISECOND, 0)
        Y, MO, D, H, MI, S, DOW = _fields(zone, t0)
        UTC = t0
        dirty = True  # the set(MILLISECOND, 0) above
        iterations = 0
        seen = None

        while True:
            if dirty:
                UTC, Y, MO, D, H, MI, S, DOW = norm(zone, Y, MO, D, H, MI, S)
                dirty = False
            iterations += 1
            if iterations > _CYCLE_CHECK_AFTER:
                # the loop state is exactly the calendar fields: a repeat means Java never ends
                if seen is None:
                    seen = set()
                key = (Y, MO, D, H, MI, S)
                if key in seen:
                    raise QuartzInfiniteLoopError(
                        "Quartz 2.3.2 getNextValidTimeAfter loops forever for this expression"
                    )
                seen.add(key)
            if Y > 2999:
                return None

            sec = S
            mn = MI
            # ---- second ------------------------------------------------------------------
            v = s_tab[sec]
            if v is not None:
                sec = v
            else:
                if seconds.empty:
                    raise _no_such_element()
                sec = seconds.first
                mn += 1
                MI = mn
                dirty = True
            if sec != S:
                S = sec
                dirty = True
            if dirty:
                UTC, Y, MO, D, H, MI, S, DOW = norm(zone, Y, MO, D, H, MI, S)
                dirty = False
            mn = MI
            hr = H
            t = -1
            # ---- minute ------------------------------------------------------------------
            v = m_tab[mn]
            if v is not None:
                t = mn
                mn = v
            else:
                if minutes.empty:
                    raise _no_such_element()
                mn = minutes.first
                hr += 1
            if mn != t:
                if S != 0:
                    S = 0
                    dirty = True
                if MI != mn:
                    MI = mn
                    dirty = True
                # setCalendarHour(cl, hr)
                if H != hr:
                    H = hr
                    dirty = True
                if dirty:
                    UTC, Y, MO, D, H, MI, S, DOW = norm(zone, Y, MO, D, H, MI, S)
                    dirty = False
                if H != hr and hr != 24:
                    H = hr + 1
                    dirty = True
                continue
            # cl.set(MINUTE, min) - same value, no-op
            hr = H
            day = D
            t = -1
            # ---- hour --------------------------------------------------------------------
            v = h_tab[hr]
            if v is not None:
                t = hr
                hr = v
            else:
                if hours.empty:
                    raise _no_such_element()
                hr = hours.first
                day += 1
            if hr != t:
                if S != 0:
                    S = 0
                    dirty = True
                if MI != 0:
                    MI = 0
                    dirty = True
                if D != day:
                    D = day
                    dirty = True
                if H != hr:
                    H = hr
                    dirty = True
                if dirty:
                    UTC, Y, MO, D, H, MI, S, DOW = norm(zone, Y, MO, D, H, MI, S)
                    dirty = False
                if H != hr and hr != 24:
                    H = hr + 1
                    dirty = True
                continue
            # cl.set(HOUR_OF_DAY, hr) - same value
            day = D
            mon = MO + 1
            t = -1
            tmon = mon

            # ---- day ---------------------------------------------------------------------
            if self.dom_spec and not self.dow_spec:
                if p.lastday_of_month:
                    if not p.nearest_weekday:
                        t = day
                        day = _ldom(mon, Y) - p.lastday_offset
                        if t > day:
                            mon += 1
                            if mon > 12:
                                mon = 1
                                tmon = 3333
                                # cl.add(Calendar.YEAR, 1) incl. pinDayOfMonth
                                Y += 1
                                dirty = True
                                ml = _ldom(MO + 1, Y)
                                if D > ml:
                                    D = ml
                            day = 1
                    else:
                        t = day
                        day = _ldom(mon, Y) - p.lastday_offset
                        day, n_time = self._nearest(zone, Y, mon, day, sec, mn, hr)
                        if n_time * 1000 < after_ms:
                            day = 1
                            mon += 1
                elif p.nearest_weekday:
                    t = day
                    if dom_set.empty:
                        raise _no_such_element()
                    day = dom_set.first
                    day, n_time = self._nearest(zone, Y, mon, day, sec, mn, hr)
                    if n_time * 1000 < after_ms:
                        day = dom_set.first
                        mon += 1
                else:
                    v = dom_set.ceil(day)
                    if v is not None:
                        t = day
                        day = v
                        if day > _ldom(mon, Y):
                            day = dom_set.first
                            mon += 1
                    else:
                        if dom_set.empty:
                            raise _no_such_element()
                        day = dom_set.first
                        mon += 1
                if day != t or mon != tmon:
                    S = MI = H = 0
                    D = day
                    MO = mon - 1
                    dirty = True
                    continue
            elif self.dow_spec and not self.dom_spec:
                if dow_set.empty:
                    raise _no_such_element()
                if p.lastday_of_week:
                    dw = dow_set.first
                    c_dow = DOW
                    days_to_add = 0
                    if c_dow < dw:
                        days_to_add = dw - c_dow
                    if c_dow > dw:
                        days_to_add = dw + (7 - c_dow)
                    l_day = _ldom(mon, Y)
                    if day + days_to_add > l_day:
                        S = MI = H = 0
                        D = 1
                        MO = mon  # promoting the month
                        dirty = True
                        continue
                    while day + days_to_add + 7 <= l_day:
                        days_to_add += 7
                    day += days_to_add
                    if days_to_add > 0:
                        S = MI = H = 0
                        D = day
                        MO = mon - 1
                        dirty = True
                        continue
                elif p.nthday_of_week != 0:
                    dw = dow_set.first
                    c_dow = DOW
                    days_to_add = 0
                    if c_dow < dw:
                        days_to_add = dw - c_dow
                    elif c_dow > dw:
                        days_to_add = dw + (7 - c_dow)
                    day_shifted = days_to_add > 0
                    day += days_to_add
                    week_of_month = day // 7
                    if day % 7 > 0:
                        week_of_month += 1
                    days_to_add = (p.nthday_of_week - week_of_month) * 7
                    day += days_to_add
                    if days_to_add < 0 or day > _ldom(mon, Y):
                        S = MI = H = 0
                        D = 1
                        MO = mon
                        dirty = True
                        continue
                    elif days_to_add > 0 or day_shifted:
                        S = MI = H = 0
                        D = day
                        MO = mon - 1
                        dirty = True
                        continue
                else:
                    c_dow = DOW
                    dw = dow_set.first
                    v = dow_set.ceil(c_dow)
                    if v is not None:
                        dw = v
                    days_to_add = 0
                    if c_dow < dw:
                        days_to_add = dw - c_dow
                    if c_dow > dw:
                        days_to_add = dw + (7 - c_dow)
                    l_day = _ldom(mon, Y)
                    if day + days_to_add > l_day:
                        S = MI = H = 0
                        D = 1
                        MO = mon
                        dirty = True
                        continue
                    elif days_to_add > 0:
                        S = MI = H = 0
                        D = day + days_to_add
                        MO = mon - 1
                        dirty = True
                        continue
            else:  # pragma: no cover - the parser rejects this
                raise QuartzRuntimeError(
                    "java.lang.UnsupportedOperationException: both day-of-week and "
                    "day-of-month specified"
                )
            if D != day:
                D = day
                dirty = True

            # mon = cl.get(MONTH) + 1; year = cl.get(YEAR)
            if dirty:
                UTC, Y, MO, D, H, MI, S, DOW = norm(zone, Y, MO, D, H, MI, S)
                dirty = False
            mon = MO + 1
            year = Y
            t = -1
            if year > MAX_YEAR:
                return None
            # ---- month -------------------------------------------------------------------
            v = months.ceil(mon)
            if v is not None:
                t = mon
                mon = v
            else:
                if months.empty:
                    raise _no_such_element()
                mon = months.first
                year += 1
            if mon != t:
                S = MI = H = 0
                D = 1
                MO = mon - 1
                Y = year
                dirty = True
                continue
            # cl.set(MONTH, mon - 1) - same value
            year = Y
            t = -1
            # ---- year --------------------------------------------------------------------
            v = years.ceil(year)
            if v is not None:
                t = year
                year = v
            else:
                return None
            if year != t:
                S = MI = H = 0
                D = 1
                MO = 0
                Y = year
                dirty = True
                continue
            # cl.set(YEAR, year) - same value; gotOne
            if dirty:  # pragma: no cover - nothing above leaves it dirty
                UTC = norm(zone, Y, MO, D, H, MI, S)[0]
            return UTC * 1000

    # ------------------------------------------------------------------------------------
    @staticmethod
    def _nearest(zone: Zone, year: int, mon: int, day: int, sec: int, mn: int, hr: int):
        """The 'W' adjustment done on Quartz's scratch calendar ``tcal``.

        Returns (adjusted day, nTime in epoch seconds).  ``tcal`` is
        ``Calendar.getInstance()`` (i.e. *now*) whose MILLISECOND is never reset; we model
        those stray milliseconds as 0, which is exact whenever the start instant has whole
        seconds (Quartz itself is non-deterministic otherwise).
        """
        # tcal.set(SECOND 0, MINUTE 0, HOUR 0, DAY day, MONTH mon-1, YEAR year); get(DOW)
        _, ty, _, _, _, _, _, dow = _norm(zone, year, mon - 1, day, 0, 0, 0)
        ldom = _ldom(mon, year)
        if dow == 7 and day == 1:
            day += 2
        elif dow == 7:
            day -= 1
        elif dow == 1 and day == ldom:
            day -= 2
        elif dow == 1:
            day += 1
        # tcal.set(SECOND sec, MINUTE min, HOUR hr, DAY day, MONTH mon-1) ; getTime()
        n_time = _norm(zone, ty, mon - 1, day, hr, mn, sec)[0]
        return day, n_time
