"""A faithful pure-Python port of Quartz 2.3.2 ``org.quartz.CronExpression``.

Sundial stores a schedule as five strings and evaluates::

    expr = CronExpression("0 " + minutes + " " + hours + " " + dom + " " + month + " " + dow)
    expr.setTimeZone(zone)
    expr.getNextValidTimeAfter(date)

:class:`QuartzCron` reproduces exactly that - what Quartz accepts/rejects, and every
``getNextValidTimeAfter`` result including its DST behaviour - and is checked against the
real Quartz jar by ``tests/quartz`` and ``bench/quartz_differential.py``.

Example::

    >>> from datetime import datetime, timezone
    >>> cron = QuartzCron.parse("30", "2", "?", "*", "MON-FRI")
    >>> cron.next_fire_after(datetime(2024, 3, 8, tzinfo=timezone.utc), "America/New_York")
    datetime.datetime(2024, 3, 8, 7, 30, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from ._eval import Evaluator, QuartzInfiniteLoopError, QuartzRuntimeError
from ._parse import (
    ALL_SPEC,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELD_NAMES,
    HOUR,
    MAX_YEAR,
    MINUTE,
    MONTH,
    NO_SPEC,
    SECOND,
    YEAR,
    ParsedCron,
    QuartzSyntaxError,
    parse_quartz,
)
from ._tz import get_zone

__all__ = [
    "QuartzCron",
    "QuartzSyntaxError",
    "QuartzRuntimeError",
    "QuartzInfiniteLoopError",
    "MAX_YEAR",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def _to_ms(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return (instant - _EPOCH) // _MS


def _from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


class QuartzCron:
    """A parsed Quartz cron expression (seconds fixed to ``0`` for Sundial schedules).

    Attributes mirror Quartz's internal state after parsing, which is what a later
    Quartz -> other-cron translation needs:

    * ``seconds``, ``minutes``, ``hours``, ``days_of_month``, ``months``, ``days_of_week``,
      ``years``: frozensets of the values Quartz stored (months 1-12, days of week 1-7 with
      SUN=1; ``98``/``99`` are Quartz's '?'/'*' markers and are kept as-is);
    * ``lastday_of_month`` ('L' in day_of_month), ``lastday_offset`` ('L-n'),
      ``nearest_weekday`` ('W'), ``lastday_of_week`` ('nL'), ``nthday_of_week`` ('n#k').
    """

    __slots__ = ("expression", "_p", "_ev")

    NO_SPEC = NO_SPEC
    ALL_SPEC = ALL_SPEC

    def __init__(self, parsed: ParsedCron):
        self._p = parsed
        self.expression = parsed.expression
        self._ev = Evaluator(parsed)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def parse(
        cls, minutes: str, hours: str, day_of_month: str, month: str, day_of_week: str
    ) -> "QuartzCron":
        """Parse Sundial's five fields exactly like Sundial does (``"0 " + ... joined by " "``).

        Raises :class:`QuartzSyntaxError` (a ``ValueError``) naming the field on rejection.
        """
        fields = (minutes, hours, day_of_month, month, day_of_week)
        for name, value in zip(FIELD_NAMES[1:6], fields):
            if not isinstance(value, str):
                raise QuartzSyntaxError(
                    name, f"must be a string, got {type(value).__name__}"
                )
        return cls.parse_expression("0 " + " ".join(fields))

    @classmethod
    def parse_expression(cls, expression: str) -> "QuartzCron":
        """Parse a full Quartz expression ``"sec min hour dom month dow [year]"``."""
        if not isinstance(expression, str):
            raise TypeError("expression must be a string")
        return cls(parse_quartz(expression))

    # ---- evaluation ---------------------------------------------------------------------
    def next_fire_after(self, instant: datetime, tz: str | ZoneInfo) -> datetime | None:
        """``getNextValidTimeAfter(instant)`` with ``setTimeZone(tz)``: aware UTC datetime.

        Strictly after ``instant``; ``None`` when Quartz returns null (no further fire time
        before Quartz's year limit).  Raises :class:`QuartzRuntimeError` where Quartz throws.
        """
        ms = self._ev.time_after(_to_ms(instant), get_zone(tz))
        return None if ms is None else _from_ms(ms)

    def next_fire_after_ms(self, epoch_ms: int, tz: str | ZoneInfo) -> int | None:
        """Like :meth:`next_fire_after` on epoch milliseconds (fast path for bulk use)."""
        return self._ev.time_after(epoch_ms, get_zone(tz))

    def fire_times(
        self, start: datetime, end: datetime, tz: str | ZoneInfo
    ) -> Iterator[datetime]:
        """Successive fire times ``f`` with ``start < f <= end`` (as Quartz's trigger does:
        each one is ``getNextValidTimeAfter`` of the previous)."""
        zone = get_zone(tz)
        ms = _to_ms(start)
        end_ms = _to_ms(end)
        ev = self._ev
        while True:
            ms = ev.time_after(ms, zone)
            if ms is None or ms > end_ms:
                return
            yield _from_ms(ms)

    # ---- introspection ------------------------------------------------------------------
    def _set(self, idx: int) -> frozenset[int]:
        return frozenset(self._p.sets[idx])

    @property
    def seconds(self) -> frozenset[int]:
        return self._set(SECOND)

    @property
    def minutes(self) -> frozenset[int]:
        return self._set(MINUTE)

    @property
    def hours(self) -> frozenset[int]:
        return self._set(HOUR)

    @property
    def days_of_month(self) -> frozenset[int]:
        return self._set(DAY_OF_MONTH)

    @property
    def months(self) -> frozenset[int]:
        return self._set(MONTH)

    @property
    def days_of_week(self) -> frozenset[int]:
        return self._set(DAY_OF_WEEK)

    @property
    def years(self) -> frozenset[int]:
        return self._set(YEAR)

    @property
    def lastday_of_month(self) -> bool:
        return self._p.lastday_of_month

    @property
    def lastday_offset(self) -> int:
        return self._p.lastday_offset

    @property
    def nearest_weekday(self) -> bool:
        return self._p.nearest_weekday

    @property
    def lastday_of_week(self) -> bool:
        return self._p.lastday_of_week

    @property
    def nthday_of_week(self) -> int:
        return self._p.nthday_of_week

    def __repr__(self) -> str:
        return f"QuartzCron({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuartzCron) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)
