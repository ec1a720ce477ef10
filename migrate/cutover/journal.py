"""The cutover journal: one JSON line per step of a cutover or a rollback, written (and
flushed to disk) before the step starts and after it is done.

A process's phase is what its last completed record says, so a cutover killed at any
point is resumed by running the same command again (every step is idempotent: pausing
a paused process changes nothing), and ``migrate verify`` knows which processes are
live in Airflow now.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

JOURNAL = "cutover-journal.jsonl"

# the steps, in order
PAUSE_SUNDIAL = "pause-sundial"
WAIT_SUNDIAL = "wait-sundial"  # no run of it in progress in Sundial
UNPAUSE_DAG = "unpause-dag"
CUT_OVER = "cut-over"  # the cutover is complete
PAUSE_DAG = "pause-dag"
WAIT_DAG = "wait-dag"  # no DAG run of it in progress in Airflow
RESUME_SUNDIAL = "resume-sundial"
ROLLED_BACK = "rolled-back"  # the rollback is complete

# a process's phase
BEFORE = "before cutover"
CUTTING_OVER = "cutting over"
LIVE_IN_AIRFLOW = "cut over"
ROLLING_BACK = "rolling back"

# a test hook: the process kills itself (SIGKILL) after writing this many records, so
# tests can stop a cutover between any two steps
CRASH_AFTER = "SUNDIAL_MIGRATE_CRASH_AFTER_RECORDS"


class JournalError(ValueError):
    """The journal cannot be read or written (exit code 2)."""


@dataclass(frozen=True)
class Record:
    process: str
    dag_id: str
    step: str
    state: str  # "start", "done" or "failed"
    at: str
    detail: str | None = None


def default_path(report: Path) -> Path:
    """DIR/cutover-journal.jsonl, for --report DIR or --report DIR/report/parity.json."""
    report = Path(report)
    return (report.parent.parent if report.is_file() else report) / JOURNAL


def read(path: Path) -> list[Record]:
    """Every record, in the order written; a journal that does not exist is empty.  A
    last line cut off by a crash mid-write is ignored (its step was not started)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(f"{path}: cannot read the cutover journal ({exc})") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            records.append(
                Record(
                    str(data["process"]),
                    str(data["dag_id"]),
                    str(data["step"]),
                    str(data["state"]),
                    str(data["at"]),
                    data.get("detail"),
                )
            )
        except (ValueError, KeyError, TypeError):
            if number == len(lines) or (number == len(lines) - 1 and not lines[-1]):
                continue  # the last line, cut off by a crash mid-write
            raise JournalError(
                f"{path}:{number}: not a cutover journal record; nothing was done"
            ) from None
    return records


def phases(records: list[Record]) -> dict[str, str]:
    """process -> its phase, from its last record."""
    out: dict[str, str] = {}
    for r in records:
        if r.step == CUT_OVER and r.state == "done":
            out[r.process] = LIVE_IN_AIRFLOW
        elif r.step == ROLLED_BACK and r.state == "done":
            out[r.process] = BEFORE
        elif r.step in (PAUSE_SUNDIAL, WAIT_SUNDIAL, UNPAUSE_DAG):
            out[r.process] = CUTTING_OVER
        elif r.step in (PAUSE_DAG, WAIT_DAG, RESUME_SUNDIAL):
            out[r.process] = ROLLING_BACK
    return out


def cut_over_at(records: list[Record]) -> dict[str, datetime]:
    """process -> when its cutover completed, for the processes cut over now."""
    out: dict[str, datetime] = {}
    for process, phase in phases(records).items():
        if phase != LIVE_IN_AIRFLOW:
            continue
        for r in records:
            if r.process == process and r.step == CUT_OVER and r.state == "done":
                try:
                    out[process] = datetime.fromisoformat(r.at)
                except ValueError:
                    pass
    return out


def done_since_last(records: list[Record], process: str, finished: str) -> set[str]:
    """The steps of ``process`` done since its last ``finished`` record (CUT_OVER or
    ROLLED_BACK), i.e. those of the cutover or rollback in progress."""
    done: set[str] = set()
    for r in records:
        if r.process != process:
            continue
        if r.step == finished and r.state == "done":
            done = set()
            continue
        if r.state == "done":
            done.add(r.step)
    return done


class Journal:
    """Appends records, each flushed and fsynced before the step goes on."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.records = read(self.path)
        self._written = 0
        crash = os.environ.get(CRASH_AFTER, "")
        self._crash_after = int(crash) if crash.isdigit() else None

    def step(
        self, process: str, dag_id: str, step: str, act, detail: str | None = None
    ) -> None:
        """Carry out ``act()`` as ``step``, journaled before it starts and after it is
        done."""
        self.write(process, dag_id, step, "start")
        act()
        self.write(process, dag_id, step, "done", detail)

    def write(
        self,
        process: str,
        dag_id: str,
        step: str,
        state: str,
        detail: str | None = None,
    ) -> None:
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        record = Record(process, dag_id, step, state, at, detail)
        line = {
            "at": at,
            "process": process,
            "dag_id": dag_id,
            "step": step,
            "state": state,
        }
        if detail is not None:
            line["detail"] = detail
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise JournalError(
                f"{self.path}: cannot write the cutover journal ({exc.strerror}); "
                "stopped before the next step"
            ) from None
        self.records.append(record)
        self._written += 1
        if self._crash_after is not None and self._written >= self._crash_after:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
