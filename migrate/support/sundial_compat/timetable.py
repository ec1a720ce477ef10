"""``QuartzTimetable``: a DAG schedule with Quartz 2.3 cron semantics, as Sundial ran it.

Used for the schedules no Unix cron (or union of crons) reproduces exactly: ``L-3``,
``LW``, ``6L``, and plain expressions whose DST behaviour differs (Quartz skips a local
time that falls in a DST gap; croniter fires after the gap).  Fire times come from the
Quartz engine in ``sundial_compat.quartz`` (a port of ``org.quartz.CronExpression``
proven against the real jar); the scheduling rules around them are those of Airflow's
``CronTriggerTimetable`` with ``run_immediately=timedelta(0)``: a run at each fire time,
no data interval, the first run the next fire time after the DAG is first scheduled, and
with ``catchup=False`` only the most recent due fire runs, once, which is what Sundial did.

Written on Airflow's public ``Timetable`` base (``airflow.timetables.base``: the same in
every Airflow 3 minor), nothing private, so it works on 3.0 to 3.3 alike.  Registered with
Airflow by ``sundial_compat/sundial_compat_plugin.py`` (``SundialCompatPlugin``): DAG
serialization and the scheduler refuse an unregistered timetable.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

import pendulum
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from .quartz import QuartzCron, QuartzRuntimeError, QuartzSyntaxError

__all__ = ["QuartzTimetable"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_HOUR_MS = 3_600_000
_PREV_SEARCH_LIMIT_MS = 40 * 366 * 24 * _HOUR_MS  # no fire in 40 years: give up


def _zone_name(zone: Any) -> str:
    name = getattr(zone, "name", None) or str(zone)
    return "UTC" if name in ("+00:00", "Etc/UTC", "UTC") else name


class QuartzTimetable(Timetable):
    """Trigger a DAG run at every fire time of a Quartz cron expression.

    :param expression: the full Quartz expression Sundial evaluated,
        ``"0 <minutes> <hours> <day_of_month> <month> <day_of_week>"``.
    :param timezone: the IANA zone Sundial's JVM evaluated it in.
    """

    def __init__(self, expression: str, *, timezone: str | Any = "UTC") -> None:
        try:
            self.quartz = QuartzCron.parse_expression(expression)
        except QuartzSyntaxError as exc:
            raise AirflowTimetableInvalid(
                f"Quartz rejects {expression!r}: {exc}"
            ) from None
        self.expression = expression
        self.zone = _zone_name(timezone)
        pendulum.timezone(self.zone)  # an unknown zone fails here, not at run time
        self.description = (
            f"Quartz cron '{expression}' in {self.zone} (Sundial's schedule, "
            "evaluated as Quartz 2.3 did)"
        )

    # ---- identity and (de)serialization ---------------------------------------------
    @property
    def summary(self) -> str:
        return f"quartz: {self.expression}"

    def serialize(self) -> dict[str, Any]:
        return {"expression": self.expression, "timezone": self.zone}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> QuartzTimetable:
        return cls(data["expression"], timezone=data["timezone"])

    def validate(self) -> None:
        try:
            self.quartz.next_fire_after(_EPOCH, self.zone)
        except QuartzRuntimeError as exc:
            raise AirflowTimetableInvalid(
                f"Quartz cannot evaluate {self.expression!r}: {exc}"
            ) from None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.serialize() == self.serialize()

    def __hash__(self) -> int:
        return hash((self.expression, self.zone))

    def __repr__(self) -> str:
        return f"QuartzTimetable({self.expression!r}, timezone={self.zone!r})"

    # ---- fire times (epoch milliseconds, UTC) -----------------------------------------
    def next_fire_ms(self, epoch_ms: int) -> int | None:
        """The first fire time strictly after ``epoch_ms``; None: no more."""
        return self.quartz.next_fire_after_ms(epoch_ms, self.zone)

    def prev_fire_ms(self, epoch_ms: int) -> int | None:
        """The last fire time strictly before ``epoch_ms``: walk Quartz forward from an
        hour earlier, then from 4x further back, until one is found (None: no fire in 40
        years)."""
        span = _HOUR_MS
        while span <= _PREV_SEARCH_LIMIT_MS:
            last = None
            ms = epoch_ms - span - 1
            while True:
                ms = self.next_fire_ms(ms)
                if ms is None or ms >= epoch_ms:
                    break
                last = ms
            if last is not None:
                return last
            span *= 4
        return None

    def _at_or_after(self, ms: int) -> int | None:
        return self.next_fire_ms(ms - 1)

    def _at_or_before(self, ms: int) -> int | None:
        return ms if self._at_or_after(ms) == ms else self.prev_fire_ms(ms)

    # ---- Airflow's scheduling rules ------------------------------------------------------
    def infer_manual_data_interval(self, *, run_after) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        """``CronTriggerTimetable.next_dagrun_info`` of Airflow 3 with Quartz's fire
        times and ``run_immediately=timedelta(0)``: without catchup, the latest of the
        most recent past fire, the fire after the last run (or, first of all, the next
        fire from now) and the first fire from ``earliest``."""
        now = _to_ms(utcnow())
        earliest = restriction.earliest
        last = last_automated_data_interval
        if restriction.catchup:
            if last is not None:
                start = self.next_fire_ms(_to_ms(last.end))
            elif earliest is None:
                start = self._at_or_after(now)
            else:
                start = self._at_or_after(_to_ms(earliest))
        else:
            candidates = [self._at_or_before(now)]
            if last is not None:
                candidates.append(self.next_fire_ms(_to_ms(last.end)))
            elif earliest is None:
                candidates.append(self._at_or_after(now))
            if earliest is not None:
                candidates.append(self._at_or_after(_to_ms(earliest)))
            if None in candidates[1:]:  # a rule that asks for a fire Quartz never has
                return None
            start = max(c for c in candidates if c is not None)
        if start is None:
            return None
        at = _from_ms(start)
        if restriction.latest is not None and restriction.latest < at:
            return None
        return DagRunInfo.exact(at)


def utcnow() -> pendulum.DateTime:
    """The scheduler's now (a module function, so tests can fix the clock)."""
    return pendulum.now("UTC")


def _to_ms(moment: datetime.datetime) -> int:
    # not ``moment - epoch``: pendulum's subtraction returns an Interval
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def _from_ms(ms: int) -> pendulum.DateTime:
    return pendulum.from_timestamp(ms // 1000, tz="UTC").add(
        microseconds=(ms % 1000) * 1000
    )
