"""Time-zone arithmetic that mimics ``java.util.GregorianCalendar`` + ``sun.util.calendar.ZoneInfo``.

Quartz resolves every local ("wall") time through ``GregorianCalendar.computeTime``, which asks
``ZoneInfo.getOffsetsByWall``: the offset used is the one of the *latest transition whose
wall-clock start (transition instant + new offset) is <= the wall time*.  Consequences:

* a wall time inside a DST gap (spring forward) is read with the *old* (pre-gap) offset, so
  02:30 on a US spring-forward day becomes 03:30 daylight time;
* a wall time inside a DST overlap (fall back) is read with the *new* offset, i.e. it
  resolves to the *second* (later) occurrence.

Both cases equal "the smaller of the two candidate offsets", i.e. the later UTC instant.

Offsets come from the stdlib :mod:`zoneinfo`; transitions are discovered lazily (per decade)
by sampling the offset once a day and bisecting to the exact second, then cached per zone.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

__all__ = ["Zone", "get_zone", "month_start_days", "days_to_ymd"]

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY = 86400

_TABLE_FIRST_YEAR = 1900
_TABLE_LAST_YEAR = 3200
# days since 1970-01-01 of the 1st of each month, index (year - 1900) * 12 + month0
_MONTH_START: list[int] = [
    date(y, m, 1).toordinal() - EPOCH_ORDINAL
    for y in range(_TABLE_FIRST_YEAR, _TABLE_LAST_YEAR + 1)
    for m in range(1, 13)
]


def month_start_days(year: int, month0: int) -> int:
    """Days since the epoch of the first day of (year, month0) with lenient month overflow."""
    if month0 < 0 or month0 > 11:
        year += month0 // 12
        month0 %= 12
    idx = (year - _TABLE_FIRST_YEAR) * 12 + month0
    if 0 <= idx < len(_MONTH_START):
        return _MONTH_START[idx]
    # proleptic Gregorian fallback (Howard Hinnant's days_from_civil)
    y = year - (1 if month0 < 2 else 0)
    m = month0 + 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def days_to_ymd(days: int) -> tuple[int, int, int]:
    """(year, month0, day) for days since the epoch."""
    d = date.fromordinal(days + EPOCH_ORDINAL)
    return d.year, d.month - 1, d.day


_SAMPLE = DAY  # sampling step when discovering transitions
_CHUNK_YEARS = 10


class Zone:
    """Offset lookups for one IANA zone, in whole seconds."""

    def __init__(self, key: str | ZoneInfo):
        self.tz = key if isinstance(key, ZoneInfo) else ZoneInfo(key)
        self.key = self.tz.key
        self._lock = threading.Lock()
        self.lo: int | None = None  # covered UTC range [lo, hi)
        self.hi: int | None = None
        self.trans: list[int] = []  # transition instants (UTC seconds)
        self.after: list[int] = []  # offset in force from trans[i] on
        self.wall_start: list[int] = []  # trans[i] + after[i]
        self.first_off = 0  # offset in force before trans[0] (at self.lo)
        # last-hit interval caches: (lo, hi, offset)
        self._u = (1, 0, 0)
        self._w = (1, 0, 0)

    # ---- discovery -------------------------------------------------------------------------
    def _off(self, t: int) -> int:
        return int(datetime.fromtimestamp(t, self.tz).utcoffset().total_seconds())

    def _scan(self, a: int, b: int) -> list[tuple[int, int]]:
        """Transitions in (a, b]: list of (instant, new offset)."""
        out = []
        prev_t = a
        prev = self._off(a)
        t = a
        while t < b:
            t = min(t + _SAMPLE, b)
            cur = self._off(t)
            if cur != prev:
                lo, hi = prev_t, t  # offset(lo) == prev, offset(hi) == cur
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._off(mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                out.append((hi, self._off(hi)))
                # re-sample from the transition: there may be another one before t
                prev_t, prev = hi, out[-1][1]
                t = hi
                continue
            prev_t, prev = t, cur
        return out

    @staticmethod
    def _year_start(year: int) -> int:
        return month_start_days(year, 0) * DAY

    def _ensure(self, t: int) -> None:
        with self._lock:
            if self.lo is not None and self.lo <= t < self.hi:
                return
            year = 1970 + t // (365 * DAY)  # rough is fine, we pad by a chunk
            year = max(1, min(9000, year))
            if self.lo is None:
                a = self._year_start(year - _CHUNK_YEARS // 2)
                b = self._year_start(year + _CHUNK_YEARS // 2 + 1)
                self.first_off = self._off(a)
                items = self._scan(a, b)
                self.lo, self.hi = a, b
            else:
                items = [(x, y) for x, y in zip(self.trans, self.after)]
                while t < self.lo:
                    y0 = datetime.fromtimestamp(self.lo, timezone.utc).year
                    a = self._year_start(y0 - _CHUNK_YEARS)
                    new = self._scan(a, self.lo)
                    self.first_off = self._off(a)
                    items = new + items
                    self.lo = a
                while t >= self.hi:
                    y1 = datetime.fromtimestamp(self.hi, timezone.utc).year
                    b = self._year_start(y1 + _CHUNK_YEARS)
                    items = items + self._scan(self.hi, b)
                    self.hi = b
            self.trans = [x for x, _ in items]
            self.after = [y for _, y in items]
            self.wall_start = [x + y for x, y in items]
            self._u = (1, 0, 0)
            self._w = (1, 0, 0)

    # ---- lookups ---------------------------------------------------------------------------
    def utc_offset(self, t: int) -> int:
        lo, hi, off = self._u
        if lo <= t < hi:
            return off
        if self.lo is None or not (self.lo <= t < self.hi):
            self._ensure(t)
        i = bisect_right(self.trans, t) - 1
        if i < 0:
            off = self.first_off
            lo = self.lo
        else:
            off = self.after[i]
            lo = self.trans[i]
        hi = self.trans[i + 1] if i + 1 < len(self.trans) else self.hi
        self._u = (lo, hi, off)
        return off

    def java_wall_offset(self, w: int) -> int:
        """Offset GregorianCalendar uses to turn wall time ``w`` (local seconds) into UTC."""
        lo, hi, off = self._w
        if lo <= w < hi:
            return off
        # make sure the UTC neighbourhood of w is covered
        if self.lo is None or not (self.lo + 2 * DAY <= w < self.hi - 2 * DAY):
            self._ensure(w - 2 * DAY)
            self._ensure(w + 2 * DAY)
        ws = self.wall_start
        i = bisect_right(ws, w) - 1
        if i < 0:
            off = self.first_off
            lo = self.lo + 2 * DAY
        else:
            off = self.after[i]
            lo = ws[i]
        hi = ws[i + 1] if i + 1 < len(ws) else self.hi - 2 * DAY
        self._w = (lo, hi, off)
        return off


_ZONES: dict[str, Zone] = {}
_ZLOCK = threading.Lock()


def get_zone(tz: str | ZoneInfo) -> Zone:
    key = tz.key if isinstance(tz, ZoneInfo) else tz
    z = _ZONES.get(key)
    if z is None:
        with _ZLOCK:
            z = _ZONES.get(key)
            if z is None:
                z = Zone(tz if isinstance(tz, ZoneInfo) else key)
                _ZONES[key] = z
    return z
