"""``migrate verify --runs``: the proof from the runs.  Since each process's cutover (the
journal's record of it, or ``--since``), the DAG runs Airflow made are compared with what
Sundial would have done:

- one scheduled run per Quartz fire: none missed, none doubled, none at another time
  (fires of the last minute may not have their run yet and are not required);
- a continuous process: Sundial's period.  Sundial started the next run
  ``buffer_seconds`` after the previous run's start, or when it ended if it ran longer:
  a run that starts earlier than that (by more than the scheduler's ``SLACK``), or later
  than it by more than ``GRACE``, or none at all while one is due, is a difference;
- every task instance took at most the Sundial task's ``max_attempts`` tries;
- the outcome rule: a finished run failed exactly when a Sundial task's last attempt
  failed (or never ran because a required upstream failed), and succeeded otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from migrate.schedule.verify import quartz_engine
from migrate.sundial.model import ContinuousSchedule, CronSchedule, ProcessDefinition
from migrate.verify.expect import parse_moment

UTC = timezone.utc
GRACE = timedelta(seconds=60)  # a healthy scheduler creates the run within seconds
SLACK = timedelta(seconds=10)  # how early a busy scheduler's loop may start a run
FINISHED = ("success", "failed")
FAILED_TASK = ("failed", "upstream_failed")
MAX_FIRES = 10_000  # fires compared per process
SHOWN = 5  # differences listed per kind
RUNS_DIFFER = "runs differ"


@dataclass
class RunsCheck:
    since: datetime
    scheduled: int = 0
    fires: int = 0
    checked_tasks: int = 0
    finished: int = 0

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(timespec="seconds"),
            "scheduled_runs": self.scheduled,
            "fires": self.fires,
            "task_instances_checked": self.checked_tasks,
            "finished_runs_checked": self.finished,
        }


def quartz_fires(
    schedule: CronSchedule,
    tz: str,
    after: datetime,
    until: datetime,
    limit: int = MAX_FIRES,
) -> list[datetime]:
    """Sundial's fire times ``after < f <= until`` (at most ``limit``), in UTC."""
    fires = quartz_engine(schedule).fire_times(after, until, tz)
    return [f.astimezone(UTC) for f in islice(fires, limit)]


def check_runs(
    client,
    process: ProcessDefinition,
    dag_id: str,
    task_ids: dict[str, str],
    since: datetime,
    now: datetime,
    tz: str,
) -> tuple[RunsCheck, list[str]]:
    """What differs (one line each) between the DAG's runs since ``since`` and Sundial's
    rules; ``task_ids``: Sundial task name -> Airflow task id."""
    check = RunsCheck(since)
    zone = ZoneInfo(tz)

    def show(moment: datetime) -> str:
        return moment.astimezone(zone).isoformat(timespec="seconds")

    runs = client.dag_runs(dag_id, since)
    scheduled: dict[datetime, list[dict]] = {}
    for run in runs:
        if run.get("run_type") != "scheduled":
            continue
        at = parse_moment(run.get("run_after"))
        if at is None or at <= since:
            continue
        scheduled.setdefault(at.astimezone(UTC), []).append(run)
    check.scheduled = sum(len(v) for v in scheduled.values())
    problems: list[str] = []
    if isinstance(process.schedule, CronSchedule):
        fires = quartz_fires(process.schedule, tz, since, now)
        check.fires = len(fires)
        wanted = set(fires)
        missed = [f for f in fires if f not in scheduled and f <= now - GRACE]
        doubled = [t for t, rs in sorted(scheduled.items()) if len(rs) > 1]
        strange = [t for t in sorted(scheduled) if t not in wanted]
        _listed(problems, "no DAG run for the fire at", missed, show)
        _listed(problems, "more than one scheduled run for the fire at", doubled, show)
        _listed(
            problems, "a scheduled run at a time that is not a fire:", strange, show
        )
    elif isinstance(process.schedule, ContinuousSchedule):
        ordered = [run for _, found in sorted(scheduled.items()) for run in found]
        check.fires = len(ordered)
        problems.extend(
            _period_differences(
                ordered, process.schedule.buffer_seconds or 0, now, show
            )
        )
    attempts = {
        task_ids[t.name]: t.max_attempts for t in process.tasks if t.name in task_ids
    }
    over, outcomes = [], []
    for at, found in sorted(scheduled.items()):
        for run in found:  # a run in progress can be over already, too
            instances = client.task_instances(dag_id, str(run.get("dag_run_id")))
            states = {}
            for ti in instances:
                task_id = ti.get("task_id")
                tries = ti.get("try_number")
                if task_id not in attempts:
                    continue
                states[task_id] = ti.get("state")
                if type(tries) is not int:
                    continue
                check.checked_tasks += 1
                if tries > attempts[task_id]:
                    over.append(
                        f"{task_id} in the run of {show(at)}: {tries} tries, Sundial "
                        f"allows {attempts[task_id]}"
                    )
            wrong = _outcome_difference(run.get("state"), states)
            if run.get("state") in FINISHED and states:
                check.finished += 1
            if wrong:
                outcomes.append(f"the run of {show(at)} {wrong}")
    if over:
        more = f" (+{len(over) - SHOWN} more)" if len(over) > SHOWN else ""
        problems.append(
            "more attempts than max_attempts: " + "; ".join(over[:SHOWN]) + more
        )
    if outcomes:
        more = f" (+{len(outcomes) - SHOWN} more)" if len(outcomes) > SHOWN else ""
        problems.append(
            "outcome differs from Sundial's rule (a run fails if any task's last "
            "attempt failed): " + "; ".join(outcomes[:SHOWN]) + more
        )
    return check, problems


def _listed(problems: list[str], label: str, found: list[datetime], show) -> None:
    if found:
        more = f" (+{len(found) - SHOWN} more)" if len(found) > SHOWN else ""
        problems.append(f"{label} {', '.join(show(t) for t in found[:SHOWN])}{more}")


def _outcome_difference(state, task_states: dict[str, object]) -> str | None:
    """What is wrong with a finished run's state, by Sundial's rule, or None."""
    if state not in FINISHED or not task_states:
        return None
    failed = sorted(t for t, s in task_states.items() if s in FAILED_TASK)
    if failed and state == "success":
        return f"succeeded, but {', '.join(failed[:SHOWN])} failed: Sundial failed it"
    unfinished = sorted(t for t, s in task_states.items() if s != "success")
    if not failed and state == "failed" and not unfinished:
        return "failed, but every Sundial task succeeded: Sundial succeeded it"
    return None


def _period_differences(
    runs: list[dict], buffer: int, now: datetime, show
) -> list[str]:
    """Sundial's continuous period over the runs, oldest first: the next run starts
    ``buffer`` s after the previous start, or when the previous run ended if later."""
    early, late = [], []
    gap = timedelta(seconds=buffer)
    due = None
    for run in runs:
        start = parse_moment(run.get("start_date"))
        if start is None:  # queued: not started yet
            due = None
            break
        if due is not None:
            if start < due - SLACK:
                early.append(
                    f"{show(start)} ({(due - start).total_seconds():.0f} s before "
                    f"Sundial's {show(due)})"
                )
            elif start > due + GRACE:
                late.append(
                    f"{show(start)} ({(start - due).total_seconds():.0f} s after "
                    f"Sundial's {show(due)})"
                )
        end = parse_moment(run.get("end_date"))
        due = max(start + gap, end) if end is not None else None
    problems = []
    if early:
        more = f" (+{len(early) - SHOWN} more)" if len(early) > SHOWN else ""
        problems.append(
            f"a run started before Sundial's period ({buffer} s after the previous "
            f"start, or at its end) allowed: {'; '.join(early[:SHOWN])}{more}"
        )
    if late:
        more = f" (+{len(late) - SHOWN} more)" if len(late) > SHOWN else ""
        problems.append(
            f"a run started later than Sundial would have: {'; '.join(late[:SHOWN])}{more}"
        )
    if due is not None and now > due + GRACE:
        problems.append(
            f"no run since {show(due)}, when Sundial would have started the next one"
        )
    return problems
