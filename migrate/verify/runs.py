"""``migrate verify --runs``: the proof from the runs.  Since each process's cutover (the
journal's record of it, or ``--since``), the DAG runs Airflow made are compared with what
Sundial would have done:

- one scheduled run per Quartz fire: none missed, none doubled, none at another time
  (fires of the last minute may not have their run yet and are not required);
  a continuous process: its runs are counted (Sundial's period is checked by verify's
  next-run check);
- every task instance took at most the Sundial task's ``max_attempts`` tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from migrate.schedule.verify import quartz_engine
from migrate.sundial.model import CronSchedule, ProcessDefinition
from migrate.verify.expect import parse_moment

UTC = timezone.utc
GRACE = timedelta(seconds=60)  # a healthy scheduler creates the run within seconds
MAX_FIRES = 10_000  # fires compared per process
SHOWN = 5  # differences listed per kind
RUNS_DIFFER = "runs differ"


@dataclass
class RunsCheck:
    since: datetime
    scheduled: int = 0
    fires: int = 0
    checked_tasks: int = 0

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(timespec="seconds"),
            "scheduled_runs": self.scheduled,
            "fires": self.fires,
            "task_instances_checked": self.checked_tasks,
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
        for label, found in (
            ("no DAG run for the fire at", missed),
            ("more than one scheduled run for the fire at", doubled),
            ("a scheduled run at a time that is not a fire:", strange),
        ):
            if found:
                more = f" (+{len(found) - SHOWN} more)" if len(found) > SHOWN else ""
                problems.append(
                    f"{label} {', '.join(show(t) for t in found[:SHOWN])}{more}"
                )
    attempts = {
        task_ids[t.name]: t.max_attempts for t in process.tasks if t.name in task_ids
    }
    over = []
    for at, found in sorted(scheduled.items()):
        for run in found:  # a run in progress can be over already, too
            for ti in client.task_instances(dag_id, str(run.get("dag_run_id"))):
                task_id = ti.get("task_id")
                tries = ti.get("try_number")
                if task_id not in attempts or type(tries) is not int:
                    continue
                check.checked_tasks += 1
                if tries > attempts[task_id]:
                    over.append(
                        f"{task_id} in the run of {show(at)}: {tries} tries, Sundial "
                        f"allows {attempts[task_id]}"
                    )
    if over:
        more = f" (+{len(over) - SHOWN} more)" if len(over) > SHOWN else ""
        problems.append(
            "more attempts than max_attempts: " + "; ".join(over[:SHOWN]) + more
        )
    return check, problems
