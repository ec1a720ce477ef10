"""`migrate verify` as a library call: Sundial definitions against a running Airflow.

SOURCE (as for `migrate diff`) is the Sundial side: the definitions, from an export or
files.  The conversion's ``report/parity.json`` (``--report``) says which DAG id each
process became (mapping rules may have prefixed or renamed it) and which file holds it,
and gives the default zone.  The running Airflow is read through its REST API: every DAG
(stale ones too), and every import error.

Per process: its DAG is there, not stale, parsed, without import errors (an import
error in its file is reported even when the DAG never appeared); paused as Sundial had
it; its next planned run agrees with the Sundial schedule (see expect.py).  DAGs the
report does not know and import errors in other files are listed, without changing the
exit code: an Airflow may run DAGs that did not come from Sundial.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.sundial.model import ContinuousSchedule, CronSchedule
from migrate.verify.client import AirflowClient
from migrate.verify.expect import check_next_run, parse_time, to_ms

UTC = timezone.utc

OK = "ok"
DAG_MISSING = "DAG missing"
IMPORT_ERROR = "import error"
NOT_PARSED = "not parsed"
PAUSED_DIFFERS = "paused differs"
NEXT_RUN_DIFFERS = "next run differs"
ACTIVE_RUN_STATES = ("queued", "running")
INVALID = "invalid definition"


class VerifyUsageError(ValueError):
    """Bad input: verify cannot run (exit code 2)."""


@dataclass
class Entry:
    process: str | None
    dag_id: str | None
    issues: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    notes: list[str] = field(default_factory=list)
    sundial_next: str | None = None
    airflow_next: str | None = None
    airflow_schedule: str | None = None
    paused: bool | None = None
    runs: dict | None = None  # --runs: what was compared

    @property
    def status(self) -> str:
        return self.issues[0][0] if self.issues else OK

    def as_dict(self) -> dict:
        return {
            "process": self.process,
            "dag_id": self.dag_id,
            "status": self.status,
            "sundial_next": self.sundial_next,
            "airflow_next": self.airflow_next,
            "airflow_schedule": self.airflow_schedule,
            "is_paused": self.paused,
            "issues": [{"kind": k, "message": m} for k, m in self.issues],
            "notes": self.notes,
            **({"runs": self.runs} if self.runs is not None else {}),
        }


@dataclass
class VerifyResult:
    airflow_url: str
    airflow_version: str | None
    checked_at: datetime
    timezone: str
    entries: list[Entry]
    other_dags: list[dict]
    other_import_errors: list[dict]
    # the Airflow minor the DAGs were converted for (parity.json), and a difference
    # between it and the running Airflow's
    target: str | None = None
    target_issue: str | None = None

    @property
    def ok(self) -> bool:
        return all(not e.issues for e in self.entries) and not self.target_issue

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.status] = out.get(e.status, 0) + 1
        return dict(sorted(out.items()))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "airflow_url": self.airflow_url,
            "airflow_version": self.airflow_version,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "timezone": self.timezone,
            "target": self.target,
            "target_issue": self.target_issue,
            "counts": self.counts(),
            "processes": [e.as_dict() for e in self.entries],
            "other_dags": self.other_dags,
            "other_import_errors": self.other_import_errors,
        }


@dataclass(frozen=True)
class ReportEntry:
    dag_id: str
    file: str | None  # relative to the bundle root (DIR/dags/<file> -> <file>)


_LINE = re.compile(
    r'\s*\{"process": ("(?:[^"\\]|\\.)*"), "dag_id": ("(?:[^"\\]|\\.)*")'
    r'(?:, "file": ("(?:[^"\\]|\\.)*"))?'
)
_TZ = re.compile(r'\s*"timezone": ("(?:[^"\\]|\\.)*"),?\s*$')
_TARGET = re.compile(r'\s*"airflow": (\{[^\n]*\}),?\s*$')


def parity_path(report: Path) -> Path:
    report = Path(report)
    if report.is_dir():
        report = report / "report" / "parity.json"
    if not report.is_file():
        raise VerifyUsageError(
            f"--report {report}: no such file (give the output directory of migrate "
            "convert, or its report/parity.json)"
        )
    return report


def read_report(report: Path) -> tuple[dict[str, ReportEntry], str | None]:
    """process -> (dag_id, bundle-relative file), and the conversion's zone.

    convert writes one process per line (a large estate's report is hundreds of MB),
    so the fields are read from the start of each line; any other layout is parsed as
    plain JSON."""
    path = parity_path(report)
    mapping: dict[str, ReportEntry] = {}
    tz = None
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if m := _LINE.match(line):
                    file = json.loads(m[3]) if m[3] else None
                    mapping[json.loads(m[1])] = ReportEntry(
                        json.loads(m[2]), _bundle_relative(file)
                    )
                elif tz is None and (m := _TZ.match(line)):
                    tz = json.loads(m[1])
        if not mapping:
            data = json.loads(path.read_text(encoding="utf-8"))
            tz = data.get("timezone") if isinstance(data.get("timezone"), str) else None
            for p in data.get("processes", []):
                mapping[p["process"]] = ReportEntry(
                    p["dag_id"], _bundle_relative(p.get("file"))
                )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VerifyUsageError(f"{path}: not a parity report ({exc})") from None
    return mapping, tz


def read_airflow_header(report: Path) -> dict:
    """parity.json's "airflow" object (version, proven_on, dags_paused_on_deploy);
    {} when the report predates it."""
    with parity_path(report).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if m := _TARGET.match(line):
                try:
                    header = json.loads(m[1])
                except ValueError:
                    return {}
                return header if isinstance(header, dict) else {}
            if n > 8:  # the header lines come first
                return {}
    return {}


def read_target(report: Path) -> str | None:
    """The Airflow minor the report's DAGs were converted for (None: not recorded)."""
    version = read_airflow_header(report).get("version")
    return version if isinstance(version, str) else None


def read_paused_on_deploy(report: Path) -> bool:
    """Were the DAGs converted to be created paused until their cutover?  (A report
    from before the setting: no, they start as Sundial had them.)"""
    return read_airflow_header(report).get("dags_paused_on_deploy") is True


def target_difference(target: str | None, running: str | None) -> str | None:
    """One line when the running Airflow is not the minor the DAGs were written for."""
    if target is None or not isinstance(running, str):
        return None
    minor = ".".join(running.split(".")[:2])
    if minor == target:
        return None
    return (
        f"the DAGs were converted for Airflow {target}, but this Airflow is {running}: "
        f"convert again with --airflow-version {minor} (and redeploy)"
    )


def _bundle_relative(file: str | None) -> str | None:
    if not file:
        return None
    parts = PurePosixPath(file).parts
    return "/".join(parts[1:]) if parts and parts[0] == "dags" else file


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise VerifyUsageError(
            f"--timezone {tz!r} is not an IANA time zone (e.g. UTC, America/New_York)"
        ) from None
    return tz


def load_side(sources: list[Path], report: Path, timezone_name: str | None):
    """The Sundial side and the mapping, checked before Airflow is contacted."""
    from migrate.sundial.load import SourceError, load_sources

    mapping, report_tz = read_report(report)
    tz = check_timezone(timezone_name or report_tz or "UTC")
    try:
        loaded = load_sources(list(sources))
    except SourceError as exc:
        raise VerifyUsageError(str(exc)) from None
    return loaded, mapping, tz


def run_verify(
    sources: list[Path],
    report: Path,
    client: AirflowClient,
    timezone_name: str | None = None,
    now: datetime | None = None,
    side=None,
    phases: dict[str, str] | None = None,
    runs_since: dict[str, datetime] | None = None,
) -> VerifyResult:
    """``side``: what ``load_side`` returned, when the caller checked the input first;
    ``phases``: each process's cutover phase (the cutover journal's), if any."""
    loaded, mapping, tz = side or load_side(sources, report, timezone_name)
    client.connect()
    dags = {d["dag_id"]: d for d in client.dags()}
    errors = client.import_errors()
    now = now or datetime.now(UTC)
    now_ms = to_ms(now)
    zone = ZoneInfo(tz)

    def show(ms: int | None) -> str | None:
        if ms is None:
            return None
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)
        return moment.isoformat(timespec="seconds")

    paused_on_deploy = read_paused_on_deploy(report)
    entries: list[Entry] = []
    for problem in loaded.problems:
        entries.append(
            Entry(getattr(problem, "process", None), None, [(INVALID, str(problem))])
        )
    errors_by_file: dict[str, list[dict]] = {}
    for err in errors:
        errors_by_file.setdefault(str(err.get("filename", "")), []).append(err)
    used_errors: set[int] = set()
    known_ids: set[str] = set()

    for process in sorted(loaded.processes, key=lambda p: p.name):
        found = mapping.get(process.name)
        entry = Entry(process.name, found.dag_id if found else None)
        entries.append(entry)
        if found is None:
            entry.issues.append(
                (
                    DAG_MISSING,
                    "the report does not name a DAG for this process (was it converted "
                    "with this report?)",
                )
            )
            continue
        known_ids.add(found.dag_id)
        dag = dags.get(found.dag_id)
        file_errors = [
            e
            for e in errors_by_file.get(found.file or "", [])
            if dag is None
            or not dag.get("bundle_name")
            or e.get("bundle_name") in (None, dag.get("bundle_name"))
        ]
        for err in file_errors:
            used_errors.add(id(err))
            entry.issues.append(
                (
                    IMPORT_ERROR,
                    f"{err.get('bundle_name') or ''}:{err.get('filename')}: "
                    f"{_last_line(err.get('stack_trace'))}".lstrip(":"),
                )
            )
        if dag is None:
            if not file_errors:
                entry.issues.append(
                    (
                        DAG_MISSING,
                        f"Airflow has no DAG {found.dag_id!r} (deployed? parsed yet? "
                        f"its file: {found.file})",
                    )
                )
            continue
        entry.paused = bool(dag.get("is_paused"))
        entry.airflow_schedule = dag.get("timetable_summary")
        if dag.get("is_stale"):
            if file_errors:
                continue  # the import error is why its file no longer gives the DAG
            entry.issues.append(
                (
                    DAG_MISSING,
                    f"DAG {found.dag_id!r} is stale: Airflow no longer finds it in "
                    f"bundle {dag.get('bundle_name')!r} (was its file removed?)",
                )
            )
            continue
        if dag.get("has_import_errors") and not file_errors:
            entry.issues.append(
                (
                    IMPORT_ERROR,
                    f"Airflow reports an import error for {dag.get('fileloc')}",
                )
            )
        parsed = parse_time(dag.get("last_parsed_time"))
        if parsed is None:
            entry.issues.append((NOT_PARSED, "Airflow has not parsed this DAG yet"))
        _check_paused(
            entry,
            bool(process.paused),
            found.dag_id,
            paused_on_deploy,
            (phases or {}).get(process.name),
        )
        if runs_since is not None:
            _check_runs(
                entry, process, found.dag_id, client, report, runs_since, now, tz
            )
        planned = parse_time(dag.get("next_dagrun_run_after"))
        last = running = None
        if isinstance(process.schedule, ContinuousSchedule) and (
            planned is None
            or (process.schedule.buffer_seconds and to_ms(planned) > now_ms)
        ):
            run = client.latest_scheduled_run(found.dag_id)
            last = to_ms(parse_time(run.get("run_after"))) if run else None
            if planned is None and run and run.get("state") in ACTIVE_RUN_STATES:
                running = to_ms(
                    parse_time(run.get("start_date") or run.get("run_after"))
                )
        outcome = check_next_run(
            process.schedule,
            tz,
            to_ms(planned),
            now_ms,
            to_ms(parsed),
            summary=dag.get("timetable_summary"),
            last_scheduled_ms=last,
            running_since_ms=running,
            show=show,
        )
        entry.sundial_next = show(outcome.sundial_next_ms) or _describe(
            process.schedule
        )
        entry.airflow_next = show(to_ms(planned)) or "none"
        if outcome.problem:
            entry.issues.append((NEXT_RUN_DIFFERS, outcome.problem))
        if outcome.note:
            entry.notes.append(outcome.note + (" (paused)" if entry.paused else ""))

    other_dags = [
        {
            "dag_id": d["dag_id"],
            "bundle_name": d.get("bundle_name"),
            "file": d.get("relative_fileloc"),
            "is_paused": d.get("is_paused"),
        }
        for dag_id, d in sorted(dags.items())
        if dag_id not in known_ids and not d.get("is_stale")
    ]
    other_errors = [
        {
            "bundle_name": e.get("bundle_name"),
            "filename": e.get("filename"),
            "error": _last_line(e.get("stack_trace")),
        }
        for e in errors
        if id(e) not in used_errors
    ]
    target = read_target(report)
    return VerifyResult(
        client.shown,
        client.version,
        now,
        tz,
        entries,
        other_dags,
        other_errors,
        target,
        target_difference(target, client.version),
    )


_TASK_IDS: dict[str, dict] = {}


def _task_ids(report: Path) -> dict[str, dict[str, str]]:
    """process -> {Sundial task: Airflow task id}, from parity.json (read once)."""
    path = str(parity_path(report))
    if path not in _TASK_IDS:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            _TASK_IDS[path] = {
                p["process"]: dict(p.get("tasks") or {}) for p in data["processes"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VerifyUsageError(f"{path}: not a parity report ({exc})") from None
    return _TASK_IDS[path]


def _check_runs(entry, process, dag_id, client, report, runs_since, now, tz) -> None:
    from migrate.verify.runs import RUNS_DIFFER, check_runs

    since = runs_since.get(process.name) or runs_since.get("*")
    if since is None:
        entry.notes.append(
            "runs not checked: not cut over (give --since to check anyway)"
        )
        return
    check, problems = check_runs(
        client,
        process,
        dag_id,
        _task_ids(report).get(process.name, {}),
        since,
        now,
        tz,
    )
    entry.runs = check.as_dict()
    entry.issues.extend((RUNS_DIFFER, p) for p in problems)


def _check_paused(
    entry: "Entry",
    sundial_paused: bool,
    dag_id: str,
    paused_on_deploy: bool,
    phase: str | None = None,
) -> None:
    """Nothing may run in both schedulers.  A process Sundial had paused stays paused in
    both.  DAGs converted to be created paused (dags_paused_on_deploy) are, before their
    cutover, paused while Sundial runs the process: one that is live too is live in
    both.  A big-bang conversion's DAG is paused exactly as Sundial's process was."""
    unpause = f"airflow dags unpause {dag_id}, or the UI"
    pause = f"airflow dags pause {dag_id}, or the UI"
    from migrate.cutover import journal

    if phase == journal.LIVE_IN_AIRFLOW:  # cut over: Airflow runs it, Sundial does not
        if entry.paused:
            entry.issues.append(
                (
                    PAUSED_DIFFERS,
                    "cut over (the journal says so), yet the DAG is paused: neither "
                    f"scheduler runs it ({unpause}, or migrate rollback)",
                )
            )
        else:
            entry.notes.append("cut over: Airflow runs it, Sundial has it paused")
        return
    if phase in (journal.CUTTING_OVER, journal.ROLLING_BACK):
        entry.issues.append(
            (
                PAUSED_DIFFERS,
                f"{phase} was interrupted (the journal's last step is not the end): run "
                "the same migrate cutover or rollback command again to finish it",
            )
        )
        return
    if sundial_paused:
        if not entry.paused:
            entry.issues.append(
                (
                    PAUSED_DIFFERS,
                    "Sundial has this process paused, yet the DAG is live (if you cut it "
                    f"over, that is the swap; else pause the DAG: {pause})",
                )
            )
        return
    if paused_on_deploy:
        if entry.paused:
            entry.notes.append(
                "not cut over yet: Sundial runs it and the DAG waits, paused (to go live "
                "pause the Sundial process, let its run end, then unpause the DAG)"
            )
        else:
            entry.issues.append(
                (
                    PAUSED_DIFFERS,
                    "live in both Sundial and Airflow: both schedulers start its jobs "
                    f"(pause the DAG: {pause}; or, if Sundial's process is paused now, "
                    "export again so SOURCE says so)",
                )
            )
        return
    if entry.paused:
        entry.issues.append(
            (
                PAUSED_DIFFERS,
                f"Sundial paused=false, Airflow is_paused=true ({unpause})",
            )
        )


def _describe(schedule) -> str:
    if schedule is None:
        return "none (manual only)"
    if isinstance(schedule, ContinuousSchedule):
        return f"continuous, {schedule.buffer_seconds or 0} s after each start"
    assert isinstance(schedule, CronSchedule)
    return "no fire"


def _last_line(trace) -> str:
    lines = [l.strip() for l in str(trace or "").splitlines() if l.strip()]
    return lines[-1][:300] if lines else "(no message)"
