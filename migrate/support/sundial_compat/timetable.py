"""``QuartzTimetable``: a DAG schedule with Quartz 2.3 cron semantics, as Sundial ran it.

Used for the schedules no Unix cron (or union of crons) reproduces exactly: ``L-3``,
``LW``, ``6L``, and plain expressions whose DST behaviour differs (Quartz skips a local
time that falls in a DST gap; croniter fires after the gap).  Fire times come from the
Quartz engine in ``sundial_compat.quartz`` (a port of ``org.quartz.CronExpression``
proven against the real jar); the scheduling rules around them are Airflow's own
``CronTriggerTimetable`` ones: a run at each fire time, no data interval, and with
``catchup=False`` only the most recent due fire runs, once, which is what Sundial did.

Registered with Airflow by ``sundial_compat/sundial_compat_plugin.py`` (``SundialCompatPlugin``):
DAG serialization and the scheduler refuse an unregistered timetable.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

import pendulum
from airflow._shared.timezones.timezone import parse_timezone
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.trigger import CronTriggerTimetable

from .quartz import QuartzCron, QuartzRuntimeError, QuartzSyntaxError

__all__ = ["QuartzTimetable"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_HOUR_MS = 3_600_000
_PREV_SEARCH_LIMIT_MS = 40 * 366 * 24 * _HOUR_MS  # no fire in 40 years: give up


class _NoMoreFires(Exception):
    """Quartz has no fire time after this instant (its year limit, or a date that never
    comes); Sundial never stored such an expression, but be defined anyway."""


def _zone_name(zone: Any) -> str:
    name = getattr(zone, "name", None) or str(zone)
    return "UTC" if name in ("+00:00", "Etc/UTC", "UTC") else name


class QuartzTimetable(CronTriggerTimetable):
    """Trigger a DAG run at every fire time of a Quartz cron expression.

    :param expression: the full Quartz expression Sundial evaluated,
        ``"0 <minutes> <hours> <day_of_month> <month> <day_of_week>"``.
    :param timezone: the IANA zone Sundial's JVM evaluated it in.

    A subclass of ``CronTriggerTimetable`` whose fire-time primitives (``_get_next``,
    ``_get_prev``) are Quartz's, so ``next_dagrun_info``, run_immediately, manual data
    intervals and the UI's planned-runs calendar all follow Quartz.
    """

    def __init__(self, expression: str, *, timezone: str | Any = "UTC") -> None:
        # CronMixin.__init__ would hand the expression to croniter, which cannot read it.
        try:
            self._quartz = QuartzCron.parse_expression(expression)
        except QuartzSyntaxError as exc:
            raise AirflowTimetableInvalid(
                f"Quartz rejects {expression!r}: {exc}"
            ) from None
        self._expression = expression
        self._timezone = (
            parse_timezone(timezone) if isinstance(timezone, str) else timezone
        )
        self._zone = _zone_name(self._timezone)
        self._interval = datetime.timedelta()
        # The first run is the next fire time after the DAG is first scheduled: never a
        # past one (Sundial may have run it already).  ``False`` would not do: Airflow
        # then still runs a past fire less than a tenth of the interval ago.
        self._run_immediately = datetime.timedelta(0)
        self.description = (
            f"Quartz cron '{expression}' in {self._zone} (Sundial's schedule, "
            "evaluated as Quartz 2.3 did)"
        )

    # ---- identity and (de)serialization ---------------------------------------------
    @property
    def summary(self) -> str:
        return f"quartz: {self._expression}"

    def serialize(self) -> dict[str, Any]:
        return {"expression": self._expression, "timezone": self._zone}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> QuartzTimetable:
        return cls(data["expression"], timezone=data["timezone"])

    def validate(self) -> None:
        try:
            self._quartz.next_fire_after(_EPOCH, self._zone)
        except QuartzRuntimeError as exc:
            raise AirflowTimetableInvalid(
                f"Quartz cannot evaluate {self._expression!r}: {exc}"
            ) from None

    def __repr__(self) -> str:
        return f"QuartzTimetable({self._expression!r}, timezone={self._zone!r})"

    # ---- fire times -----------------------------------------------------------------
    def next_fire_ms(self, epoch_ms: int) -> int | None:
        """The first fire time strictly after ``epoch_ms`` (epoch milliseconds, UTC)."""
        return self._quartz.next_fire_after_ms(epoch_ms, self._zone)

    def _get_next(self, current: pendulum.DateTime) -> pendulum.DateTime:
        ms = self.next_fire_ms(_to_ms(current))
        if ms is None:
            raise _NoMoreFires()
        return _from_ms(ms)

    def _get_prev(self, current: pendulum.DateTime) -> pendulum.DateTime:
        """The last fire time strictly before ``current``: walk Quartz forward from an
        hour earlier, then from 4x further back, until a fire time is found."""
        target = _to_ms(current)
        span = _HOUR_MS
        while span <= _PREV_SEARCH_LIMIT_MS:
            last = None
            ms = target - span - 1
            while True:
                ms = self.next_fire_ms(ms)
                if ms is None or ms >= target:
                    break
                last = ms
            if last is not None:
                return _from_ms(last)
            span *= 4
        return _from_ms(0)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        try:
            return super().next_dagrun_info(
                last_automated_data_interval=last_automated_data_interval,
                restriction=restriction,
            )
        except _NoMoreFires:
            return None


def _to_ms(moment: datetime.datetime) -> int:
    # not ``moment - epoch``: pendulum's subtraction returns an Interval
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def _from_ms(ms: int) -> pendulum.DateTime:
    return pendulum.from_timestamp(ms // 1000, tz="UTC").add(
        microseconds=(ms % 1000) * 1000
    )
