"""`migrate diff` as a library call: Sundial definitions against the DAGs Airflow loads.

For each Sundial process: its DAG (matched through report/parity.json when present, else
through the process name convert writes into every DAG's ``doc_md``), the DAG's actual
schedule (its timetable, as the scheduler rebuilds it) against Quartz's fire times over the
horizon, its paused-on-creation flag against Sundial's ``paused``, whether a custom
timetable is registered by a plugin, and optionally the run history.  DAGs no process
accounts for, and DAG files that do not import, are reported too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.diff.dags import (
    DagInfo,
    DagLoader,
    plugins_folder_for,
    registered_timetables,
    use_plugins_folder,
)
from migrate.diff.history import HistoryResult, compare_history, read_history
from migrate.diff.schedules import Behaviour, FireCache, behaviour_job, from_ms, to_ms
from migrate.sundial.model import ContinuousSchedule, CronSchedule

UTC = timezone.utc
DEFAULT_HORIZON_DAYS = 365
SHOWN_PAIRS = 10

PARITY = "parity"
SCHEDULE_DIFFERS = "schedule differs"
DAG_MISSING = "DAG missing"
NO_PROCESS = "no Sundial process"
PAUSED_DIFFERS = "paused differs"
NOT_REGISTERED = "timetable not registered"
IMPORT_ERROR = "DAG file does not import"
HISTORY_DIFFERS = "history differs"
INVALID = "invalid definition"
NOTHING_COMPARED = "nothing compared"


class DiffUsageError(ValueError):
    """Bad input: the diff cannot run (exit code 2)."""


@dataclass
class Issue:
    kind: str
    message: str
    pairs: list[tuple[str | None, str | None]] = field(default_factory=list)
    count: int = 0  # differing instants in all

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "differing_instants": self.count,
            "first_differences": [{"sundial": s, "airflow": a} for s, a in self.pairs],
        }


@dataclass
class Entry:
    process: str | None
    dag_id: str | None
    sundial_schedule: str = ""
    airflow_schedule: str = ""
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    history: dict | None = None

    @property
    def status(self) -> str:
        return self.issues[0].kind if self.issues else PARITY

    def as_dict(self) -> dict:
        return {
            "process": self.process,
            "dag_id": self.dag_id,
            "status": self.status,
            "sundial_schedule": self.sundial_schedule,
            "airflow_schedule": self.airflow_schedule,
            "issues": [i.as_dict() for i in self.issues],
            "notes": self.notes,
            **({"history": self.history} if self.history is not None else {}),
        }


@dataclass
class DiffResult:
    entries: list[Entry]
    timezone: str
    start: datetime
    horizon_days: int
    dags_loaded: int
    distinct_sundial_schedules: int
    distinct_airflow_timetables: int
    airflow_target: str | None = None  # the minor the DAGs were converted for
    airflow_stepped: str | None = None  # the Airflow whose timetables were stepped
    history_window: tuple[str, str] | None = None

    @property
    def parity(self) -> bool:
        return all(not e.issues for e in self.entries)

    def exit_code(self) -> int:
        return 0 if self.parity else 1

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.status] = out.get(e.status, 0) + 1
        return dict(sorted(out.items()))

    def as_dict(self) -> dict:
        return {
            "parity": self.parity,
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "horizon_days": self.horizon_days,
            "airflow": {
                "written_for": self.airflow_target,
                "stepped_with": self.airflow_stepped,
            },
            "dags_loaded": self.dags_loaded,
            "distinct_schedules_computed": {
                "sundial": self.distinct_sundial_schedules,
                "airflow": self.distinct_airflow_timetables,
                "note": "identical schedules give identical fire times: each distinct "
                "one is computed once and shared by the processes that use it",
            },
            **(
                {"history_window": list(self.history_window)}
                if self.history_window
                else {}
            ),
            "counts": self.counts(),
            "processes": [e.as_dict() for e in self.entries],
        }


def default_start() -> datetime:
    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0)


def parse_start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DiffUsageError(
            f"--start {text!r} is not an ISO date/time (e.g. 2026-01-01T00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_REPORT_LINE = re.compile(
    r'\s*\{"process": ("(?:[^"\\]|\\.)*"), "dag_id": ("(?:[^"\\]|\\.)*")'
)
_REPORT_TZ = re.compile(r'\s*"timezone": ("(?:[^"\\]|\\.)*"),?\s*$')


def report_mapping(dags_dir: Path) -> tuple[dict[str, str], str | None]:
    """process -> dag_id and the conversion's zone from DIR/../report/parity.json.

    convert writes one process per line (the report of a large estate is hundreds of MB),
    so the two fields are read from the start of each line; any other layout is parsed
    as plain JSON."""
    dags_dir = Path(dags_dir).resolve()
    path = dags_dir.parent / "report" / "parity.json"
    if dags_dir.name != "dags" or not path.is_file():
        return {}, None
    mapping: dict[str, str] = {}
    tz = None
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                match = _REPORT_LINE.match(line)
                if match:
                    mapping[json.loads(match[1])] = json.loads(match[2])
                elif tz is None and (match := _REPORT_TZ.match(line)):
                    tz = json.loads(match[1])
        if mapping:
            return mapping, tz
        data = json.loads(path.read_text(encoding="utf-8"))
        mapping = {p["process"]: p["dag_id"] for p in data.get("processes", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DiffUsageError(f"{path}: not a parity report ({exc})") from None
    tz = data.get("timezone") if isinstance(data.get("timezone"), str) else None
    return mapping, tz


def run_diff(
    sources: list[Path],
    dags_dir: Path,
    timezone_name: str | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    start: datetime | None = None,
    history: Path | None = None,
    progress=None,
) -> DiffResult:
    from migrate.sundial.load import SourceError, load_sources

    dags_dir = Path(dags_dir)
    if not dags_dir.is_dir():
        raise DiffUsageError(f"--dags {dags_dir}: not a directory")
    if horizon_days <= 0:
        raise DiffUsageError(
            f"--horizon {horizon_days}: must be a positive number of days"
        )
    mapping, report_tz = report_mapping(dags_dir)
    written_for = _written_for(dags_dir)
    paused_on_deploy = _paused_on_deploy(dags_dir)
    tz = timezone_name or report_tz or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise DiffUsageError(f"--timezone {tz!r} is not an IANA time zone") from None
    start = start or default_start()
    end = start + timedelta(days=horizon_days)
    start_ms, end_ms = to_ms(start), to_ms(end)
    cache = FireCache()

    plugins = plugins_folder_for(dags_dir)
    use_plugins_folder(plugins)
    loader = DagLoader(dags_dir, progress=progress)  # parses in workers from here on
    try:
        try:
            loaded = load_sources(list(sources))
        except SourceError as exc:
            raise DiffUsageError(str(exc)) from None
        runs = read_history(history) if history is not None else None
        for process in loaded.processes:
            if isinstance(process.schedule, CronSchedule):
                cache.quartz(process.schedule.quartz_expression(), tz, start_ms, end_ms)
        dags = loader.result()
        keys = sorted(
            {(d.timetable_type, d.timetable_data, start_ms, end_ms) for d in dags.dags}
        )
        cache.seed_airflow(keys, loader.map(behaviour_job, keys))
    finally:
        loader.close()
    registered = registered_timetables(plugins)
    zone = ZoneInfo(tz)

    def show(ms: int | None) -> str | None:
        if ms is None:
            return None
        return from_ms(ms).astimezone(zone).isoformat(timespec="minutes")

    by_id: dict[str, list[DagInfo]] = {}
    by_process: dict[str, DagInfo] = {}
    for d in dags.dags:
        by_id.setdefault(d.dag_id, []).append(d)
        if d.process is not None:
            by_process.setdefault(d.process, d)
    used: set[tuple[str, str]] = set()
    entries: list[Entry] = []

    for problem in loaded.problems:
        entries.append(
            Entry(
                process=problem.process if hasattr(problem, "process") else None,
                dag_id=None,
                issues=[Issue(INVALID, str(problem))],
            )
        )

    for process in sorted(loaded.processes, key=lambda p: p.name):
        dag_id = mapping.get(process.name)
        dag = None
        if dag_id is not None and by_id.get(dag_id):
            dag = by_id[dag_id][0]
        elif dag_id is None:
            dag = by_process.get(process.name)
        entry = Entry(process=process.name, dag_id=dag.dag_id if dag else dag_id)
        entry.sundial_schedule = _describe_sundial(process.schedule, tz)
        entries.append(entry)
        if dag is None:
            where = (
                f" (expected dag_id {dag_id!r}, from report/parity.json)"
                if dag_id
                else ""
            )
            entry.issues.append(
                Issue(DAG_MISSING, f"no DAG in {dags_dir} for this process{where}")
            )
            continue
        used.add((dag.dag_id, dag.file))
        entry.airflow_schedule = dag.summary
        if dag.timetable_type.split(".")[0] != "airflow" and (
            dag.timetable_type not in registered
        ):
            entry.issues.append(
                Issue(
                    NOT_REGISTERED,
                    f"{dag.timetable_type} is not registered by any plugin in "
                    f"{plugins or 'the plugins folder'}: Airflow would refuse to "
                    "serialize and schedule this DAG (deploy plugins/ with the DAGs)",
                )
            )
        behaviour = cache.airflow(
            dag.timetable_type, dag.timetable_data, start_ms, end_ms
        )
        _compare_schedule(
            process.schedule, behaviour, tz, start_ms, end_ms, cache, entry, show
        )
        _target_rules(process.schedule, dag, written_for, entry)
        paused = bool(process.paused)
        # created paused until its cutover, or (a big-bang conversion) as Sundial had it
        expected = True if paused_on_deploy else paused
        if dag.paused_upon_creation != expected:
            why = (
                "the DAGs were converted to be created paused until their cutover"
                if paused_on_deploy
                else f"Sundial paused={str(paused).lower()}"
            )
            entry.issues.append(
                Issue(
                    PAUSED_DIFFERS,
                    f"{why}, but the DAG has is_paused_upon_creation="
                    f"{dag.paused_upon_creation}"
                    + (": deploying it would run it in both" if not paused else ""),
                )
            )
        if runs is not None:
            _history(process, dag, runs, tz, cache, entry, show)

    for d in dags.dags:
        if (d.dag_id, d.file) in used:
            continue
        entries.append(
            Entry(
                process=None,
                dag_id=d.dag_id,
                airflow_schedule=d.summary,
                issues=[
                    Issue(
                        NO_PROCESS,
                        f"{d.file}: DAG {d.dag_id!r} matches no Sundial process in SOURCE"
                        + (f" (its doc_md names {d.process!r})" if d.process else ""),
                    )
                ],
            )
        )
    for file, error in sorted(dags.import_errors.items()):
        entries.append(
            Entry(
                process=None,
                dag_id=None,
                issues=[Issue(IMPORT_ERROR, f"{file}: {error}")],
            )
        )
    sundial_n, airflow_n = cache.distinct
    return DiffResult(
        entries=entries,
        timezone=tz,
        start=start,
        horizon_days=horizon_days,
        dags_loaded=len(dags.dags),
        distinct_sundial_schedules=sundial_n,
        distinct_airflow_timetables=airflow_n,
        airflow_target=written_for.minor if written_for else None,
        airflow_stepped=_installed_airflow(),
        history_window=(
            (show(runs.first_ms), show(runs.last_ms))
            if runs is not None and runs.first_ms is not None
            else None
        ),
    )


def _written_for(dags_dir: Path):
    """The AirflowTarget the DAGs were converted for (report/parity.json), or None."""
    from migrate.target import UnknownTarget, target
    from migrate.verify.core import read_target

    report = dags_dir.parent / "report" / "parity.json"
    if not report.is_file():
        return None
    try:
        minor = read_target(report)
        return target(minor) if minor else None
    except (OSError, UnknownTarget):
        return None


def _paused_on_deploy(dags_dir: Path) -> bool:
    from migrate.verify.core import read_paused_on_deploy

    report = dags_dir.parent / "report" / "parity.json"
    try:
        return report.is_file() and read_paused_on_deploy(report)
    except OSError:
        return False


def _installed_airflow() -> str | None:
    try:
        from importlib.metadata import version

        return version("apache-airflow")
    except Exception:  # noqa: BLE001 - only shown
        return None


def _target_rules(schedule, dag: DagInfo, written_for, entry) -> None:
    """Where the target Airflow's scheduler plans differently from the one stepped here:
    its own rule.  (The timetables themselves plan the same runs on 3.0-3.3: the version
    matrix, tests/matrix, steps each in its own Airflow.)"""
    if (
        written_for is not None
        and written_for.continuous_needs_start_date
        and isinstance(schedule, ContinuousSchedule)
        and dag.timetable_type.endswith(".ContinuousTimetable")
        and not dag.has_start_date
    ):
        entry.issues.append(
            Issue(
                SCHEDULE_DIFFERS,
                f"Airflow {written_for.minor} (the DAGs' target) starts no run of an "
                "@continuous DAG without a start_date: this DAG would never run (give it "
                "one, or convert again)",
            )
        )


def _describe_sundial(schedule, tz: str) -> str:
    if schedule is None:
        return "none (manual only)"
    if isinstance(schedule, ContinuousSchedule):
        return f"continuous, {schedule.buffer_seconds or 0} s after each start"
    return f"quartz: {schedule.quartz_expression()} ({tz})"


def _describe_behaviour(b: Behaviour) -> str:
    if b.kind == "none":
        return "no automatic runs"
    if b.kind == "period":
        return f"a run every {b.period:g} s" if b.period else "continuous (no gap)"
    return "fire times"


def _compare_schedule(schedule, behaviour, tz, start_ms, end_ms, cache, entry, show):
    if schedule is None:
        if behaviour.kind == "none" or (
            behaviour.kind == "times" and not behaviour.times
        ):
            return
        first = behaviour.times[0] if behaviour.kind == "times" else None
        entry.issues.append(
            Issue(
                SCHEDULE_DIFFERS,
                f"Sundial runs this process only when triggered; the DAG has "
                f"{_describe_behaviour(behaviour)}",
                [(None, show(first))] if first is not None else [],
                len(behaviour.times),
            )
        )
        return
    if isinstance(schedule, ContinuousSchedule):
        period = float(schedule.buffer_seconds or 0)
        if behaviour.kind == "period" and behaviour.period == period:
            if period:
                entry.notes.append(
                    "same period; Sundial counted it from the previous run's start, "
                    "Airflow from the previous scheduled time"
                )
            return
        entry.issues.append(
            Issue(
                SCHEDULE_DIFFERS,
                f"Sundial: continuous, next run {period:g} s after the previous start; "
                f"the DAG has {_describe_behaviour(behaviour)}",
            )
        )
        return
    assert isinstance(schedule, CronSchedule)
    quartz = cache.quartz(schedule.quartz_expression(), tz, start_ms, end_ms)
    if behaviour.kind != "times":
        entry.issues.append(
            Issue(
                SCHEDULE_DIFFERS,
                f"Sundial fires at Quartz times; the DAG has {_describe_behaviour(behaviour)}",
                [(show(q), None) for q in quartz[:SHOWN_PAIRS]],
                len(quartz),
            )
        )
        return
    pairs = cache.differences(quartz, behaviour.times)
    if behaviour.truncated:
        entry.notes.append(
            "Airflow's run times were cut short (too many or not advancing)"
        )
    if not pairs and not quartz:
        # neither side fires in the horizon: agreement on nothing proves nothing
        days = (end_ms - start_ms) // 86_400_000
        entry.issues.append(
            Issue(
                NOTHING_COMPARED,
                f"no fire time in {days} days on either side, so nothing was compared "
                "(a Quartz year field?): give --start or a longer --horizon that holds "
                "its fire times",
            )
        )
        return
    if pairs:
        entry.issues.append(
            Issue(
                SCHEDULE_DIFFERS,
                f"{len(pairs)} fire time(s) differ in {(end_ms - start_ms) // 86_400_000} "
                f"days ({len(quartz)} Sundial, {len(behaviour.times)} Airflow)",
                [(show(q), show(a)) for q, a in pairs[:SHOWN_PAIRS]],
                len(pairs),
            )
        )


def _fire_at_or_before(expression: str, tz: str, ms: int) -> int:
    """The latest Quartz fire time <= ms (searching back 1 h, 4 h, ... up to ~4 years);
    ms itself when there is none."""
    from migrate.quartz import QuartzCron

    engine = QuartzCron.parse_expression(expression)
    span = 3_600_000
    while span < 5 * 366 * 86_400_000:
        last, t = None, ms - span - 1
        while (t := engine.next_fire_after_ms(t, tz)) is not None and t <= ms:
            last = t
        if last is not None:
            return last
        span *= 4
    return ms


def _history(process, dag, runs, tz, cache, entry, show):
    starts = runs.runs.get(process.name, [])
    schedule = process.schedule
    if not isinstance(schedule, CronSchedule):
        kind = "continuous" if schedule else "manual only"
        entry.history = {"runs": len(starts), "note": f"{kind}: nothing to compare"}
        return
    if not starts:
        entry.history = {"runs": 0, "note": "no recorded runs"}
        return
    expression = schedule.quartz_expression()
    hi = runs.last_ms + 1
    since = _fire_at_or_before(expression, tz, starts[0])  # the first run's fire
    quartz = cache.quartz(expression, tz, since, hi)
    behaviour = cache.airflow(dag.timetable_type, dag.timetable_data, since, hi)
    airflow = behaviour.times if behaviour.kind == "times" else None
    result: HistoryResult = compare_history(starts, quartz, airflow, since)
    entry.history = {
        "runs": result.runs,
        "on_time": result.on_time,
        "late": [
            {"run_start": show(s), "fire": show(f), "late_by_seconds": (s - f) // 1000}
            for s, f in result.late
        ],
        "manual": [show(s) for s in result.manual],
        "skipped_fires": len(result.skipped),
        "first_skipped_fires": [show(f) for f in result.skipped[:SHOWN_PAIRS]],
        "scheduled_runs_airflow_lacks": [show(f) for f in result.not_in_airflow],
        "airflow_runs_sundial_lacks": [
            show(f) for f in result.airflow_extra[:SHOWN_PAIRS]
        ],
    }
    if airflow is None:
        entry.notes.append("history: the DAG has no time-based schedule to compare")
    if result.differs:
        pairs = [(show(f), None) for f in result.not_in_airflow[:SHOWN_PAIRS]]
        pairs += [
            (None, show(f)) for f in result.airflow_extra[: SHOWN_PAIRS - len(pairs)]
        ]
        entry.issues.append(
            Issue(
                HISTORY_DIFFERS,
                f"over the recorded history: {len(result.not_in_airflow)} Sundial scheduled "
                f"run(s) at a time Airflow would not run, {len(result.airflow_extra)} "
                "Airflow run time(s) that were no Sundial fire time",
                pairs,
                len(result.not_in_airflow) + len(result.airflow_extra),
            )
        )
