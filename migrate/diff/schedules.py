"""Fire times on both sides, computed once per distinct schedule.

Sundial's side: the Quartz engine on the definition's expression in the zone.  Airflow's
side: the DAG's timetable rebuilt from its serialized form (what the scheduler does) and
stepped with ``next_dagrun_info_v2`` (the scheduler's entry point; catchup on, so every run
is listed).  Identical inputs give identical times, so both are cached per distinct
(expression, zone) and (timetable class, serialized form, window): an estate of 10,000
processes has a few dozen distinct schedules.  Times are epoch milliseconds.
"""

from __future__ import annotations

import json
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timezone

UTC = timezone.utc
MAX_FIRES = 1_100_000  # every minute for two years


@dataclass(frozen=True)
class Behaviour:
    """What a schedule does: ``none`` (no automatic runs), ``period`` (a run every
    ``period`` seconds counted from a previous run: continuous/timedelta) or ``times``.
    """

    kind: str
    period: float | None = None
    times: tuple[int, ...] = ()
    truncated: bool = False


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class FireCache:
    def __init__(self) -> None:
        self._quartz: dict[tuple, tuple[int, ...]] = {}
        self._airflow: dict[tuple, Behaviour] = {}
        self._compare: dict[tuple, list[tuple[int | None, int | None]]] = {}
        self.quartz_computed = 0
        self.airflow_computed = 0

    # ---- Sundial --------------------------------------------------------------------
    def quartz(self, expression: str, tz: str, start_ms: int, end_ms: int):
        key = (expression, tz, start_ms, end_ms)
        hit = self._quartz.get(key)
        if hit is None:
            hit = self._quartz[key] = _quartz_times(*key)
            self.quartz_computed += 1
        return hit

    # ---- Airflow --------------------------------------------------------------------
    def airflow(self, type_name: str, data: str, start_ms: int, end_ms: int):
        key = (type_name, data, start_ms, end_ms)
        hit = self._airflow.get(key)
        if hit is None:
            hit = self._airflow[key] = _behaviour_cached(*key)
            self.airflow_computed += 1
        return hit

    def seed_airflow(self, keys: list[tuple], behaviours: list[Behaviour]) -> None:
        """Results computed elsewhere (worker processes) for ``airflow(*key)``."""
        for key, behaviour in zip(keys, behaviours):
            if key not in self._airflow:
                self._airflow[key] = behaviour
                self.airflow_computed += 1

    # ---- comparison -----------------------------------------------------------------
    def differences(self, quartz: tuple[int, ...], airflow: tuple[int, ...]):
        """Instants only one side has, paired in time order (within 3 h)."""
        key = (id(quartz), id(airflow))  # both are cached objects, so ids are stable
        hit = self._compare.get(key)
        if hit is None:
            hit = self._compare[key] = (
                _pairs(quartz, airflow) if quartz != airflow else []
            )
        return hit

    @property
    def distinct(self) -> tuple[int, int]:
        return len(self._quartz), len(self._airflow)


@lru_cache(
    maxsize=256
)  # pure functions of their arguments: shared by runs in a process
def _quartz_times(expression: str, tz: str, start_ms: int, end_ms: int):
    from migrate.quartz import QuartzCron

    engine = QuartzCron.parse_expression(expression)
    out: list[int] = []
    ms = start_ms - 1
    while len(out) < MAX_FIRES:
        ms = engine.next_fire_after_ms(ms, tz)
        if ms is None or ms >= end_ms:
            break
        out.append(ms)
    return tuple(out)


@lru_cache(maxsize=256)
def _behaviour_cached(type_name: str, data: str, start_ms: int, end_ms: int):
    return _behaviour(type_name, data, start_ms, end_ms)


def behaviour_job(key: tuple) -> Behaviour:
    """``FireCache.airflow(*key)`` for a worker process."""
    return _behaviour_cached(*key)


def _pairs(quartz, airflow) -> list[tuple[int | None, int | None]]:
    from migrate.schedule.verify import pair_differences

    return pair_differences(quartz, airflow, window=3 * 3600 * 1000)


def build_timetable(type_name: str, data: str):
    from airflow._shared.module_loading import import_string

    return import_string(type_name).deserialize(json.loads(data))


def _behaviour(type_name: str, data: str, start_ms: int, end_ms: int) -> Behaviour:
    import pendulum
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.simple import ContinuousTimetable, NullTimetable
    from airflow.timetables.trigger import DeltaTriggerTimetable

    timetable = build_timetable(type_name, data)
    if isinstance(timetable, NullTimetable) or not timetable.can_be_scheduled:
        return Behaviour("none")
    if isinstance(timetable, ContinuousTimetable):
        return Behaviour("period", 0.0)
    if isinstance(timetable, DeltaTriggerTimetable):
        delta = timetable._delta
        seconds = getattr(delta, "total_seconds", None)
        return Behaviour("period", seconds() if seconds else None)
    start = pendulum.from_timestamp(start_ms / 1000, tz="UTC")
    end = pendulum.from_timestamp(end_ms / 1000, tz="UTC")
    restriction = TimeRestriction(earliest=start, latest=end, catchup=True)
    fast = _fast_cron_times(timetable, data, restriction, end_ms)
    if fast is not None:
        return fast
    return _walk(timetable, restriction, end_ms)


def _walk(timetable, restriction, end_ms: int) -> Behaviour:
    """The scheduler's loop: ``next_dagrun_info_v2`` from each run to the next."""

    def runs():
        info = None
        while True:
            info = timetable.next_dagrun_info_v2(
                last_dagrun_info=info, restriction=restriction
            )
            if info is None or info.run_after is None:
                return
            yield to_ms(info.run_after)

    return _collect(runs(), end_ms)


def _collect(runs, end_ms: int) -> Behaviour:
    """Run times (epoch ms) before ``end_ms``; truncated where a timetable does not move
    forward or MAX_FIRES is reached."""
    out: list[int] = []
    truncated = False
    for ms in runs:
        if ms >= end_ms:
            break
        if out and ms <= out[-1]:  # a timetable that does not move forward
            truncated = True
            break
        out.append(ms)
        if len(out) >= MAX_FIRES:
            truncated = True
            break
    return Behaviour("times", times=tuple(out), truncated=truncated)


def _fast_cron_times(timetable, data: str, restriction, end_ms: int):
    """:func:`_walk` for a plain ``CronTriggerTimetable``, stepped by
    :class:`migrate.schedule.verify.AirflowCron`; None when it does not apply.

    With catchup on and ``earliest`` set, ``_TriggerTimetable.next_dagrun_info`` asks for
    ``_align_to_next(earliest)`` first (``earliest`` itself when
    ``_get_prev(_get_next(earliest)) == earliest``), then ``_get_next(previous
    data_interval.end)``, and returns None once that is after ``latest``.  Each run's
    ``run_after`` is its ``data_interval.end``, the time just computed (``interval`` only
    moves the interval's start; ``run_immediately`` only matters without ``earliest``).
    So the first run comes from the timetable itself, and every later one from
    ``AirflowCron.next_after``: ``_get_next`` made cheap (tests/diff/test_fast_behaviour.py
    holds this to :func:`_walk`).
    """
    import datetime as dt

    from airflow.timetables.trigger import CronTriggerTimetable

    if (
        type(timetable) is not CronTriggerTimetable
        or not isinstance(timetable._interval, dt.timedelta)
        or timetable._interval != dt.timedelta(0)
    ):
        return None
    try:
        from migrate.schedule.verify import AirflowCron

        cron = AirflowCron(timetable._expression, json.loads(data)["timezone"])
        if cron.expression != timetable._expression or cron.zone != timetable._timezone:
            return None
        latest = restriction.latest
        info = timetable.next_dagrun_info_v2(
            last_dagrun_info=None, restriction=restriction
        )
        if info is None or info.run_after is None:
            return Behaviour("times")
        first = info.run_after.astimezone(UTC)
        first_utc = datetime(  # a stdlib datetime, as AirflowCron steps them
            first.year,
            first.month,
            first.day,
            first.hour,
            first.minute,
            first.second,
            first.microsecond,
            tzinfo=UTC,
        )
        next_after = cron.next_after

        def runs():
            t = first_utc
            while True:
                yield to_ms(t)
                t = next_after(t)
                if t > latest:  # next_dagrun_info's restriction.latest check
                    return

        return _collect(runs(), end_ms)
    except Exception:  # anything unusual: the scheduler's own loop decides
        return None
