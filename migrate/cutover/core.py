"""A cutover moves one process at a time from Sundial to Airflow, in the one order that
never lets both schedulers run it:

1. preflight: ``migrate verify`` for it (DAG present, parsed, paused, no import error,
   next run = Quartz); any difference stops it, left as it was;
2. pause it in Sundial, then wait until Sundial has no run of it in progress (or ask
   Sundial to kill them); a run that outlasts the wait resumes it in Sundial, as it was;
3. unpause the DAG, and confirm Airflow plans the Quartz next fire; name the fires that
   fell between Sundial's last run and Airflow's first (none runs twice).

A rollback reverses it: pause the DAG, wait for its runs (or mark them failed), resume
the Sundial process.  Every step is journaled before and after, and every step is
idempotent, so the same command run again after a kill resumes where it stopped.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from migrate.cutover import journal as j
from migrate.cutover.journal import Journal
from migrate.cutover.sundial import SundialClient, SundialUnreachable
from migrate.sundial.model import CronSchedule
from migrate.verify.client import AirflowClient, AirflowUnreachable
from migrate.verify.core import load_side, run_verify
from migrate.verify.expect import parse_moment
from migrate.verify.runs import quartz_fires

UTC = timezone.utc
MAX_MISSED = 20  # fires listed per process
PLANNED_WAIT = 120  # seconds to wait for a paused DAG's planned run to be re-parsed


class CutoverUsageError(ValueError):
    """The command cannot run (exit code 2)."""


@dataclass
class Outcome:
    process: str
    dag_id: str | None
    status: str  # see STATUSES
    message: str
    missed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in OK

    def as_dict(self) -> dict:
        return {
            "process": self.process,
            "dag_id": self.dag_id,
            "status": self.status,
            "message": self.message,
            "missed_fires": self.missed,
        }


CUT_OVER = "cut over"
ALREADY = "already cut over"
SKIPPED = "skipped"  # paused in Sundial: stays paused in both
WOULD = "would cut over"
FAILED = "not cut over"  # left as it was
DIFFERS = "cut over, with differences"
ROLLED_BACK = "rolled back"
WOULD_ROLL_BACK = "would roll back"
NOT_ROLLED_BACK = "not rolled back"  # left cut over
OK = {CUT_OVER, ALREADY, SKIPPED, WOULD, ROLLED_BACK, WOULD_ROLL_BACK}


@dataclass(frozen=True)
class Waiting:
    seconds: float = 600.0  # --wait-running
    kill: bool = False  # --kill-running
    poll: float = 1.0


def matcher(globs) -> callable:
    globs = list(globs)
    return lambda name: any(fnmatch.fnmatchcase(name, g) for g in globs)


def cutover(
    sources: list[Path],
    report: Path,
    sundial: SundialClient,
    airflow: AirflowClient,
    globs,
    journal: Journal,
    waiting: Waiting = Waiting(),
    dry_run: bool = False,
    timezone_name: str | None = None,
) -> list[Outcome]:
    side = load_side(sources, report, timezone_name)
    loaded, mapping, tz = side
    wanted = matcher(globs)
    processes = {p.name: p for p in loaded.processes if wanted(p.name)}
    if not processes:
        raise CutoverUsageError(
            f"--process {' '.join(globs)}: matches no valid process in SOURCE"
        )
    phases = j.phases(journal.records)
    preflight = run_verify(
        sources, report, airflow, timezone_name, side=side, phases=phases
    )
    checked = {e.process: e for e in preflight.entries}
    outcomes = []
    for name in sorted(processes):
        found = mapping.get(name)
        if found is None:
            outcomes.append(
                Outcome(name, None, FAILED, "the report names no DAG for it")
            )
            continue
        step = _Cutover(
            name, found.dag_id, processes[name], tz, sundial, airflow, journal
        )
        try:
            outcome = step.run(
                phases.get(name),
                checked.get(name),
                preflight.target_issue,
                waiting,
                dry_run,
            )
        except (SundialUnreachable, AirflowUnreachable) as exc:
            raise type(exc)(f"{exc}; {step.left_as(exc)}") from None
        outcomes.append(outcome)
    cut = [o for o in outcomes if o.status == CUT_OVER]
    if cut:  # one verify for the whole wave, once every DAG of it is live
        try:
            after = run_verify(
                sources,
                report,
                airflow,
                timezone_name,
                side=side,
                phases=j.phases(journal.records),
            )
        except AirflowUnreachable as exc:
            raise AirflowUnreachable(
                f"{exc}; {', '.join(o.process for o in cut)}: cut over (the journal "
                "says so), not confirmed: run migrate verify"
            ) from None
        _confirm(cut, {e.process: e for e in after.entries})
    return outcomes


def _confirm(cut: list[Outcome], entries: dict) -> None:
    """Each process just cut over as verify now sees it: its next run, or what differs."""
    for outcome in cut:
        entry = entries.get(outcome.process)
        issues = [f"{k}: {m}" for k, m in (entry.issues if entry else [])]
        if issues:
            outcome.status = DIFFERS
            outcome.message = "; ".join(issues) + " (migrate rollback undoes it)"
            continue
        next_run = entry.airflow_next if entry else None
        outcome.message = (
            f"paused in Sundial, live in Airflow; next run {next_run or 'none'}"
        )


class _Cutover:
    def __init__(self, name, dag_id, process, tz, sundial, airflow, journal: Journal):
        self.name, self.dag_id, self.process, self.tz = name, dag_id, process, tz
        self.sundial, self.airflow, self.journal = sundial, airflow, journal

    def left_as(self, exc: Exception) -> str:
        """Where a cutover stopped by an unreachable Sundial or Airflow leaves the
        process, after putting it back in Sundial when it can: never live in both."""
        phase = j.phases(self.journal.records).get(self.name)
        done = j.done_since_last(self.journal.records, self.name, j.ROLLED_BACK)
        if phase != j.CUTTING_OVER:
            return f"{self.name}: left as it was"
        if j.UNPAUSE_DAG in done:
            return (
                f"{self.name}: its DAG is live and Sundial has it paused: run the same "
                "command again to finish the cutover"
            )
        if isinstance(exc, AirflowUnreachable):
            try:  # the DAG was never unpaused: give the process back to Sundial
                self._step(j.RESUME_SUNDIAL, lambda: self.sundial.resume(self.name))
                self.journal.write(self.name, self.dag_id, j.ROLLED_BACK, "done")
                return f"{self.name}: resumed in Sundial, left as it was"
            except SundialUnreachable:
                pass
        return (
            f"{self.name}: paused in Sundial and its DAG paused (neither runs it): run the "
            "same command again when both answer, or migrate rollback"
        )

    def _step(self, step: str, act, detail: str | None = None) -> None:
        self.journal.step(self.name, self.dag_id, step, act, detail)

    def run(self, phase, entry, target_issue, waiting, dry_run) -> Outcome:
        """Cut it over, or say why not; a CUT_OVER outcome is confirmed by the caller."""
        if phase == j.LIVE_IN_AIRFLOW:
            return Outcome(self.name, self.dag_id, ALREADY, "the journal says so")
        if phase == j.ROLLING_BACK:
            return Outcome(
                self.name,
                self.dag_id,
                FAILED,
                "a rollback of it was interrupted: finish it with migrate rollback first",
            )
        done = j.done_since_last(self.journal.records, self.name, j.ROLLED_BACK)
        if phase != j.CUTTING_OVER:  # a fresh cutover: the preflight decides
            if self.sundial.paused(self.name):
                return Outcome(
                    self.name,
                    self.dag_id,
                    SKIPPED,
                    "paused in Sundial: it stays paused in both",
                )
            problems = [f"{k}: {m}" for k, m in (entry.issues if entry else [])]
            if target_issue:
                problems.insert(0, target_issue)
            if entry is None:
                problems.append("migrate verify did not check it")
            if problems:
                return Outcome(
                    self.name,
                    self.dag_id,
                    FAILED,
                    "preflight: " + "; ".join(problems) + " (left as it was)",
                )
            if dry_run:
                return Outcome(
                    self.name,
                    self.dag_id,
                    WOULD,
                    "preflight clean: would pause it in Sundial, wait for its runs, "
                    "unpause the DAG",
                )
        elif dry_run:
            return Outcome(
                self.name, self.dag_id, WOULD, "would finish its interrupted cutover"
            )
        if j.PAUSE_SUNDIAL not in done:
            self._step(j.PAUSE_SUNDIAL, lambda: self.sundial.pause(self.name))
        if j.WAIT_SUNDIAL not in done:
            self.journal.write(self.name, self.dag_id, j.WAIT_SUNDIAL, "start")
            left = _wait(
                lambda: self.sundial.running(self.name), self.sundial.kill, waiting
            )
            if left:
                self.journal.write(
                    self.name,
                    self.dag_id,
                    j.WAIT_SUNDIAL,
                    "failed",
                    f"{len(left)} run(s) in progress",
                )
                self._step(j.RESUME_SUNDIAL, lambda: self.sundial.resume(self.name))
                self.journal.write(self.name, self.dag_id, j.ROLLED_BACK, "done")
                return Outcome(
                    self.name,
                    self.dag_id,
                    FAILED,
                    f"Sundial still runs it after {waiting.seconds:g} s (process "
                    f"{', '.join(left)}): resumed in Sundial, left as it was (give "
                    "--wait-running more seconds, or --kill-running)",
                )
            self.journal.write(self.name, self.dag_id, j.WAIT_SUNDIAL, "done")
        if j.UNPAUSE_DAG not in done:
            stale = self._planned_in_the_past(waiting)
            if stale is not None:
                self._step(j.RESUME_SUNDIAL, lambda: self.sundial.resume(self.name))
                self.journal.write(self.name, self.dag_id, j.ROLLED_BACK, "done")
                return Outcome(
                    self.name,
                    self.dag_id,
                    FAILED,
                    f"Airflow still plans its next run at {stale}, a fire Sundial ran: "
                    "unpausing it now would run that fire again (the dag-processor has "
                    "not parsed the DAG since); resumed in Sundial, left as it was: run "
                    "the cutover again in a minute",
                )
            self._step(
                j.UNPAUSE_DAG, lambda: self.airflow.set_paused(self.dag_id, False)
            )
        missed = self._missed()
        self.journal.write(
            self.name,
            self.dag_id,
            j.CUT_OVER,
            "done",
            f"{len(missed)} missed fire(s)" if missed else None,
        )
        return Outcome(self.name, self.dag_id, CUT_OVER, "", missed)

    def _planned_in_the_past(self, waiting: "Waiting") -> str | None:
        """A paused DAG's planned run is only as fresh as its last parse: one planned
        at a fire that has passed would run at once when unpaused, a fire Sundial ran.
        Wait (up to PLANNED_WAIT seconds) for a planned run in the future; returns the
        stale one when it does not come."""
        if not isinstance(self.process.schedule, CronSchedule):
            return None  # continuous or manual only: nothing planned at a fire
        deadline = time.monotonic() + PLANNED_WAIT
        while True:
            planned = self.airflow.dag(self.dag_id).get("next_dagrun_run_after")
            when = parse_moment(planned)
            if when is None:
                return None  # nothing planned
            if when > datetime.now(UTC):
                return None
            if time.monotonic() >= deadline:
                return when.isoformat(timespec="seconds")
            time.sleep(min(2.0, waiting.poll * 2))

    def _missed(self) -> list[str]:
        """Quartz fires after Sundial's last run and before Airflow's first: Sundial
        did not run them and Airflow will not (its first run is the next fire)."""
        schedule = self.process.schedule
        if not isinstance(schedule, CronSchedule):
            return []
        last = self.sundial.last_start(self.name)
        if last is None:
            return []
        zone = ZoneInfo(self.tz)
        fires = quartz_fires(schedule, self.tz, last, datetime.now(UTC), MAX_MISSED)
        return [t.astimezone(zone).isoformat(timespec="seconds") for t in fires]


def _wait(running, kill, waiting: Waiting) -> list[str]:
    """Poll ``running()`` until it is empty or ``waiting.seconds`` pass; with
    ``waiting.kill`` each run is asked to stop once.  Returns what is still running."""
    deadline = time.monotonic() + waiting.seconds
    asked: set[str] = set()
    while True:
        left = running()
        if not left:
            return []
        if waiting.kill:
            for run in left:
                if run not in asked:
                    kill(run)
                    asked.add(run)
        if time.monotonic() >= deadline:
            return left
        time.sleep(min(waiting.poll, max(0.05, deadline - time.monotonic())))


def rollback(
    sundial: SundialClient,
    airflow: AirflowClient,
    globs,
    journal: Journal,
    waiting: Waiting = Waiting(),
    dry_run: bool = False,
) -> list[Outcome]:
    """Reverse the journal's cutovers (finished or interrupted) of the processes that
    match ``globs`` (all of them without one)."""
    wanted = matcher(globs) if globs else (lambda name: True)
    airflow.connect()  # an Airflow 3 api-server, logged in
    phases = j.phases(journal.records)
    dag_ids = {r.process: r.dag_id for r in journal.records}
    names = sorted(n for n, phase in phases.items() if phase != j.BEFORE and wanted(n))
    if not names:
        raise CutoverUsageError(
            f"{journal.path}: no process "
            + (f"matching {' '.join(globs)} " if globs else "")
            + "is cut over, or being cut over, in this journal"
        )
    outcomes = []
    for name in names:
        dag_id = dag_ids[name]
        done = j.done_since_last(journal.records, name, j.ROLLED_BACK)
        started = {
            r.step
            for r in journal.records
            if r.process == name and r.step == j.PAUSE_SUNDIAL
        }
        if dry_run:
            outcomes.append(
                Outcome(
                    name,
                    dag_id,
                    WOULD_ROLL_BACK,
                    "would pause the DAG, wait for "
                    "its runs, resume the Sundial process",
                )
            )
            continue

        def step(kind, act):
            journal.step(name, dag_id, kind, act)

        if j.PAUSE_DAG not in done:
            step(j.PAUSE_DAG, lambda: airflow.set_paused(dag_id, True))
        if j.WAIT_DAG not in done:
            journal.write(name, dag_id, j.WAIT_DAG, "start")
            left = _wait(
                lambda: airflow.runs_in_progress(dag_id),
                lambda run: airflow.fail_run(dag_id, run),
                waiting,
            )
            if left:
                journal.write(name, dag_id, j.WAIT_DAG, "failed", f"{len(left)} run(s)")
                step(j.UNPAUSE_DAG, lambda: airflow.set_paused(dag_id, False))
                journal.write(name, dag_id, j.CUT_OVER, "done", "rollback undone")
                outcomes.append(
                    Outcome(
                        name,
                        dag_id,
                        NOT_ROLLED_BACK,
                        f"Airflow still runs it after {waiting.seconds:g} s (DAG runs "
                        f"{', '.join(left)}): the DAG is live again, Sundial not resumed "
                        "(give --wait-running more seconds, or --kill-running)",
                    )
                )
                continue
            journal.write(name, dag_id, j.WAIT_DAG, "done")
        if started and j.RESUME_SUNDIAL not in done:
            step(j.RESUME_SUNDIAL, lambda: sundial.resume(name))
        journal.write(name, dag_id, j.ROLLED_BACK, "done")
        outcomes.append(
            Outcome(
                name, dag_id, ROLLED_BACK, "paused in Airflow, live in Sundial again"
            )
        )
    return outcomes
