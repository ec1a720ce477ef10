"""What a running Airflow's next run of a DAG must be, given the Sundial schedule.

Airflow stores one planned run per DAG (``next_dagrun_run_after``), computed by the DAG
processor at every parse and by the scheduler after it starts a run.  For the schedules
convert generates (``catchup=False``, no ``start_date``):

- a cron or Quartz timetable plans its first run at the next fire time (convert sets
  ``run_immediately`` to 0 s: never a past fire, which Sundial may have run already);
  after a run at fire F it plans the later of F's successor and the latest fire at or
  before now.  So the planned run is always a
  Sundial fire time, between the latest fire before the plan was made and Sundial's
  next fire: it equals Sundial's next fire, or it is a due fire that starts as soon as
  the scheduler can (what Sundial did when a fire was missed: one run, late);
- a ``timedelta`` (continuous with a buffer) plans ``buffer`` after the previous
  scheduled run, or "now" for the first one; ``@continuous`` (no buffer) plans "now";
  while a run of either is in progress (``max_active_runs=1``, as Sundial runs one at a
  time) Airflow 3.0 plans nothing until it ends;
- no schedule plans nothing.

A paused DAG is planned the same way (every parse), it is just not started.  ``SLACK``
covers the time between the plan and the moment Airflow records the parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from migrate.sundial.model import ContinuousSchedule, CronSchedule

UTC = timezone.utc
SLACK_MS = 60_000
_PREV_SPAN_LIMIT_MS = 5 * 366 * 86_400_000
_TIMEDELTA = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$")


@dataclass
class NextRun:
    """The outcome for one DAG: ``problem`` is None when Airflow's plan is right."""

    sundial_next_ms: int | None  # Sundial's next fire after now (None: none/continuous)
    problem: str | None = None
    note: str | None = None


def to_ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_moment(text) -> datetime | None:
    """An ISO 8601 time from an answer, aware (UTC when it names no zone); None when
    it is empty or not a time at all."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timedelta_seconds(summary: str | None) -> float | None:
    """Seconds of a ``str(timedelta)`` (how Airflow summarizes a delta schedule)."""
    if not summary:
        return None
    m = _TIMEDELTA.match(summary.strip())
    if not m:
        return None
    days, h, mi, s, frac = m.groups()
    seconds = int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s)
    return seconds + (int(frac.ljust(6, "0")) / 1e6 if frac else 0.0)


class QuartzFires:
    """Fire times of one Quartz expression in one zone (epoch milliseconds)."""

    def __init__(self, expression: str, tz: str):
        from migrate.quartz import QuartzCron

        self.engine = QuartzCron.parse_expression(expression)
        self.tz = tz

    def after(self, ms: int) -> int | None:
        """The first fire strictly after ``ms``."""
        return self.engine.next_fire_after_ms(ms, self.tz)

    def at_or_before(self, ms: int) -> int | None:
        """The latest fire at or before ``ms`` (searching back up to ~5 years)."""
        span = 3_600_000
        while span <= _PREV_SPAN_LIMIT_MS:
            last, t = None, ms - span - 1
            while (t := self.after(t)) is not None and t <= ms:
                last = t
            if last is not None:
                return last
            span *= 4
        return None

    def is_fire(self, ms: int) -> bool:
        # walked to from an hour earlier, as Sundial walked from its last run: asking
        # for the fire after ms - 1 is not the same question in Quartz (its W rules
        # skip a fire when asked from within the same second)
        return self.at_or_before(ms) == ms


def check_next_run(
    schedule,
    tz: str,
    planned_ms: int | None,
    now_ms: int,
    parsed_ms: int | None,
    summary: str | None = None,
    last_scheduled_ms: int | None = None,
    show=str,
    running_since_ms: int | None = None,
) -> NextRun:
    """Is Airflow's planned run ``planned_ms`` the one Sundial's ``schedule`` implies?

    ``parsed_ms``: when Airflow last parsed the DAG; ``summary``: Airflow's
    ``timetable_summary``; ``last_scheduled_ms``: the latest scheduled run's run_after
    (asked for delta schedules only); ``running_since_ms``: when the scheduled run in
    progress started, if one is (asked for continuous schedules with no planned run);
    ``show(ms)`` formats an instant for messages."""
    if schedule is None:
        if planned_ms is None:
            return NextRun(None)
        return NextRun(
            None,
            f"Sundial runs this process only when triggered; Airflow plans a run at "
            f"{show(planned_ms)}",
        )
    if isinstance(schedule, ContinuousSchedule):
        return _continuous(
            schedule,
            planned_ms,
            now_ms,
            summary,
            last_scheduled_ms,
            show,
            running_since_ms,
        )
    assert isinstance(schedule, CronSchedule)
    fires = QuartzFires(schedule.quartz_expression(), tz)
    nxt = fires.after(now_ms)
    if planned_ms is None:
        return NextRun(
            nxt,
            "Airflow plans no run"
            + (f"; Sundial fires next at {show(nxt)}" if nxt is not None else ""),
        )
    since = min(parsed_ms if parsed_ms is not None else now_ms, now_ms) - SLACK_MS
    latest_then = fires.at_or_before(since)
    latest_now = fires.at_or_before(now_ms)
    if not fires.is_fire(planned_ms):
        return NextRun(
            nxt,
            f"Airflow's next run {show(planned_ms)} is not a fire time of the Sundial "
            f"schedule (Sundial fires next at {show(nxt)})",
        )
    if nxt is not None and planned_ms > nxt:
        return NextRun(
            nxt,
            f"Airflow's next run {show(planned_ms)} skips Sundial's next fire at {show(nxt)}",
        )
    if latest_then is not None and planned_ms < latest_then:
        return NextRun(
            nxt,
            f"Airflow's next run {show(planned_ms)} is older than the Sundial fire at "
            f"{show(latest_then)}: Airflow has not planned this DAG since "
            "(are its scheduler and DAG processor running?)",
        )
    note = None
    if planned_ms <= now_ms:
        note = (
            f"due: the fire at {show(planned_ms)} runs as soon as the scheduler can"
            if planned_ms == latest_now
            else f"due: the fire at {show(planned_ms)} (planned before the fire at "
            f"{show(latest_now)}; Airflow re-plans at its next parse)"
        )
    return NextRun(nxt, None, note)


def _continuous(
    schedule, planned_ms, now_ms, summary, last_ms, show, running_since_ms=None
) -> NextRun:
    buffer = float(schedule.buffer_seconds or 0)
    if buffer == 0:
        if summary != "@continuous":
            return NextRun(
                None,
                f"Sundial runs this process continuously (no buffer); Airflow's "
                f"schedule is {summary or 'none'}",
            )
    else:
        period = timedelta_seconds(summary)
        if period != buffer:
            return NextRun(
                None,
                f"Sundial starts a run {buffer:g} s after the previous start; Airflow's "
                f"schedule is {summary or 'none'}"
                + (f" ({period:g} s)" if period is not None else ""),
            )
    if planned_ms is None and running_since_ms is not None:
        return NextRun(
            None,
            None,
            f"a run is in progress (since {show(running_since_ms)}): Airflow plans the "
            "next one when it ends, as Sundial does",
        )
    if planned_ms is None:
        return NextRun(None, "Airflow plans no run of this continuous process")
    if planned_ms <= now_ms + SLACK_MS:
        return NextRun(
            None, None, "due: the next run starts as soon as the scheduler can"
        )
    if (
        buffer
        and last_ms is not None
        and abs(planned_ms - (last_ms + buffer * 1000)) < 1000
    ):
        return NextRun(None)
    expected = (
        f"{buffer:g} s after the previous run ({show(last_ms + int(buffer * 1000))})"
        if buffer and last_ms is not None
        else "now"
    )
    return NextRun(
        None,
        f"Airflow's next run {show(planned_ms)} is not {expected}",
    )
