"""Sundial's actual runs (``migrate export --history-days``) against the Airflow schedule.

Sundial woke up every ~10 s: when the next fire time after the last run's start had
passed, it started ONE run (missed fires were never back-filled).  So each recorded run is

- **on time**: it started within ``WAKE_TOLERANCE`` of the latest fire time not yet
  accounted for;
- **late**: a fire time was due since the previous run, but the run started later than
  the tolerance (Sundial was down or busy; it ran once for every fire it missed, which are
  counted as **skipped**);
- **manual**: no fire time was due since the previous run (someone triggered it).

Fire times are Quartz's (the Sundial definition).  Each scheduled run's fire must also be
an Airflow run time, and every Airflow run time in the history window must be a Quartz fire
time (run or skipped by Sundial), else the history shows a difference.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

WAKE_TOLERANCE = timedelta(seconds=60)
HISTORY_FILE = Path("history") / "processes.jsonl"


class HistoryError(ValueError):
    pass


@dataclass
class HistoryRuns:
    runs: dict[str, list[int]] = field(default_factory=dict)  # process -> start ms
    first_ms: int | None = None
    last_ms: int | None = None


def read_history(export_dir: Path) -> HistoryRuns:
    path = Path(export_dir) / HISTORY_FILE
    if not path.is_file():
        raise HistoryError(
            f"--history {export_dir}: no {HISTORY_FILE} (export with `migrate export "
            "--history-days N`)"
        )
    out = HistoryRuns()
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    name = record["process_definition_name"]
                    start = _parse_time(record["start_time"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise HistoryError(
                        f"--history {path}:{number}: not a run record ({exc})"
                    ) from None
                ms = int(start.timestamp() * 1000)
                out.runs.setdefault(name, []).append(ms)
                out.first_ms = ms if out.first_ms is None else min(out.first_ms, ms)
                out.last_ms = ms if out.last_ms is None else max(out.last_ms, ms)
    except OSError as exc:
        raise HistoryError(f"--history {path}: cannot read ({exc.strerror})") from None
    for runs in out.runs.values():
        runs.sort()
    return out


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return moment


@dataclass
class HistoryResult:
    runs: int = 0
    on_time: int = 0
    late: list[tuple[int, int]] = field(default_factory=list)  # (run start, fire)
    manual: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # fires Sundial never ran
    not_in_airflow: list[int] = field(
        default_factory=list
    )  # scheduled fires Airflow lacks
    airflow_extra: list[int] = field(default_factory=list)  # Airflow runs Quartz lacks

    @property
    def differs(self) -> bool:
        return bool(self.not_in_airflow or self.airflow_extra)


def compare_history(
    runs: list[int],
    quartz_fires: tuple[int, ...],
    airflow_fires: tuple[int, ...] | None,
    window_start_ms: int,
) -> HistoryResult:
    """``quartz_fires``/``airflow_fires`` cover [window_start - lookback, last run];
    ``airflow_fires`` is None when the DAG has no time-based schedule to compare."""
    tolerance = int(WAKE_TOLERANCE.total_seconds() * 1000)
    result = HistoryResult(runs=len(runs))
    scheduled: list[int] = []
    accounted = window_start_ms - 1  # fires up to here are accounted for
    lookback = True  # the first run may answer a fire before the window
    for start in runs:
        lo = bisect_right(quartz_fires, accounted if not lookback else -1)
        hi = bisect_right(quartz_fires, start)
        due = quartz_fires[lo:hi]
        if lookback:
            due = due[-1:]
            lookback = False
        if not due:
            result.manual.append(start)
        else:
            fire = due[-1]
            if start - fire <= tolerance:
                result.on_time += 1
            else:
                result.late.append((start, fire))
            result.skipped.extend(f for f in due[:-1] if f >= window_start_ms)
            scheduled.append(fire)
        accounted = max(accounted, start)
    if runs:  # fires after the last run, up to the end of the history, never ran
        result.skipped.extend(
            f for f in quartz_fires[bisect_right(quartz_fires, runs[-1]) :]
        )
    if airflow_fires is not None:
        aset = set(airflow_fires)
        # A first run answering a fire from before the window cannot be judged: Airflow's
        # run times are computed from the window start (the schedules themselves are
        # compared over the whole horizon separately).
        result.not_in_airflow = [
            f for f in scheduled if f >= window_start_ms and f not in aset
        ]
        qset = set(quartz_fires)
        # Quartz fires are those after window_start (the first run's own fire); judge
        # Airflow's run times over the same span, not at the boundary itself.
        lo = bisect_right(airflow_fires, window_start_ms)
        result.airflow_extra = [f for f in airflow_fires[lo:] if f not in qset]
    return result
