"""`migrate export` as library calls: ``export_api`` and ``export_db``."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from migrate.extract import api, db
from migrate.extract.http import Client, ExportError, HttpOptions, redact_url
from migrate.extract.stored_form import doubled_dependencies
from migrate.extract.writer import TOOL, ExportWriter, iso
from migrate.sundial.model import GENERATIONS, SourceRef
from migrate.sundial.wire import read_process

UTC = timezone.utc


@dataclass
class ExportResult:
    out: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.warnings else 0


class Progress:
    """Callbacks the command line turns into progress bars (all optional)."""

    def definitions(self, items: Iterable[Any]) -> Iterator[Any]:
        yield from items

    def history(self, windows: int) -> Callable[[], None]:
        return lambda: None


def matcher(globs: Iterable[str]) -> Callable[[str], bool] | None:
    globs = list(globs)
    if not globs:
        return None
    return lambda name: any(fnmatch.fnmatchcase(name, g) for g in globs)


class _Collector:
    """What the manifest says about the definitions, gathered while they are written."""

    def __init__(self, writer: ExportWriter, mode: str):
        self.writer = writer
        self.mode = mode
        self.generations = {g: 0 for g in GENERATIONS}
        self.unknown: list[dict] = []
        self.warnings: list[str] = []
        self.counts = {
            "process_definitions": 0,
            "task_definitions": 0,
            "invalid_definitions": 0,
            "skipped": 0,
            "history_processes": 0,
            "history_tasks": 0,
        }
        self.seen: set[str] = set()

    def skip(self, line: str) -> None:
        self.counts["skipped"] += 1
        self.warnings.append(line)

    def add_unreadable(self, item: "api.Unreadable") -> None:
        """Valid JSON that cannot be read into values: exported as its text, when it
        names its process; one line either way."""
        name = item.name()
        if not name or name in self.seen:
            self.skip(
                f"the definition at character {item.position} of the listing cannot be "
                f"read ({item.reason}) and names no process of its own; skipped"
            )
            return
        self.seen.add(name)
        rel = self.writer.add_definition(name, None, raw=item.raw)
        self.counts["process_definitions"] += 1
        self.counts["invalid_definitions"] += 1
        self.warnings.append(
            f"invalid definition (exported as is): {rel}: process {name!r}: "
            f"{item.reason}; fix it at the source"
        )

    def add(self, definition: Any) -> None:
        if isinstance(definition, api.Unreadable):
            self.add_unreadable(definition)
            return
        name = (
            definition.get("process_definition_name")
            if isinstance(definition, dict)
            else None
        )
        if not isinstance(name, str) or not name:
            self.skip(
                "a definition without a process_definition_name was skipped "
                f"(got {type(definition).__name__})"
            )
            return
        if name in self.seen:
            self.skip(f"process {name!r} is listed twice; the second copy was skipped")
            return
        self.seen.add(name)
        rel = self.writer.add_definition(name, definition)
        self.counts["process_definitions"] += 1
        tasks = definition.get("task_definitions")
        if isinstance(tasks, list):
            self.counts["task_definitions"] += len(tasks)
        parsed = read_process(definition, SourceRef(rel))
        if isinstance(parsed, list):
            self.counts["invalid_definitions"] += 1
            for problem in parsed:
                self.warnings.append(f"invalid definition (exported as is): {problem}")
        else:
            for generation in parsed.generations:
                self.generations[generation] += 1
            for path, _value in parsed.unknown_fields:
                self.unknown.append({"process": name, "file": rel, "field": path})
        if self.mode == "api":
            for task, upstream in doubled_dependencies(definition):
                self.warnings.append(
                    f"process {name!r} task {task!r} lists {upstream!r} as both a required "
                    "and an optional dependency: the signature of Sundial's GET "
                    "/api/process_definitions bug (required dependencies returned twice, "
                    "real optional ones dropped); these dependencies are not reliable, "
                    "export with --db to read the stored ones"
                )


def _manifest(source: str, collector: _Collector, extra: dict) -> dict:
    return {
        "tool": TOOL,
        "source": source,
        "exported_at": iso(datetime.now(UTC)),
        "api_generations_seen": {g: n for g, n in collector.generations.items() if n},
        "counts": collector.counts,
        "unknown_fields": collector.unknown,
        "warnings": collector.warnings,
        **extra,
    }


def _window(history_days: float, now: datetime | None) -> tuple[datetime, datetime]:
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return end - timedelta(days=history_days), end


def export_api(
    url: str,
    out: Path,
    options: HttpOptions | None = None,
    *,
    history_days: float = 30,
    processes: Iterable[str] = (),
    now: datetime | None = None,
    window: timedelta = timedelta(days=1),
    max_records: int = 2000,
    workers: int = 3,
    progress: Progress | None = None,
) -> ExportResult:
    """The history is fetched on ``workers`` threads from the moment the definitions
    have arrived, while they are checked and written; everything is written by the
    calling thread, in the same order as one thread would."""
    progress = progress or Progress()
    wanted = matcher(processes)
    with Client(url, options) as client, ExportWriter(out) as writer:
        collector = _Collector(writer, "api")
        definitions = api.iter_definitions(client)
        history = None
        if history_days > 0:
            start, end = _window(history_days, now)
            history = api.HistoryStream(
                client,
                start,
                end,
                window=window,
                max_records=max_records,
                names=wanted,
                workers=workers,
            )
        try:
            done = _HistoryWriter(writer, collector)
            for definition in progress.definitions(definitions):
                if isinstance(definition, api.Unreadable):
                    name = definition.name()
                elif isinstance(definition, dict):
                    name = definition.get("process_definition_name")
                else:
                    name = None
                if wanted is not None and isinstance(name, str) and not wanted(name):
                    continue
                collector.add(definition)
                if history is not None:
                    done.take(history.poll())
            extra: dict = {}
            if history is not None:
                tick = progress.history(max(1, len(history.days)))
                for _ in range(done.days):
                    tick()
                for batch in history:
                    done.take([batch])
                    for _ in range(batch.days_done):
                        tick()
                for line in done.problems:
                    collector.skip(line)
                extra["history"] = {"start_time": iso(start), "end_time": iso(end)}
        finally:
            if history is not None:
                history.close()
        manifest = _manifest(redact_url(url), collector, extra)
        manifest = writer.finish(manifest)
    return ExportResult(writer.out, manifest, collector.warnings)


class _HistoryWriter:
    """Appends history batches to the export and counts them."""

    def __init__(self, writer: ExportWriter, collector: _Collector):
        self.writer = writer
        self.counts = collector.counts
        self.problems: list[str] = []
        self.days = 0

    def take(self, batches: list[api.Batch]) -> None:
        for batch in batches:
            if batch.data:
                self.writer.add_history(batch.data)
            self.counts["history_processes"] += batch.runs
            self.counts["history_tasks"] += batch.tasks
            self.problems += batch.problems
            self.days += batch.days_done


def export_db(
    dsn: str,
    out: Path,
    *,
    history_days: float = 30,
    processes: Iterable[str] = (),
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    progress = progress or Progress()
    wanted = matcher(processes)
    conn = db.connect(dsn)
    try:
        db.check_tables(conn, db.DEFINITION_TABLES)
        if history_days > 0:
            db.check_tables(conn, db.HISTORY_TABLES)
        with ExportWriter(out) as writer:
            collector = _Collector(writer, "db")
            for item in progress.definitions(db.iter_definitions(conn)):
                if wanted is not None and not wanted(item.name):
                    continue
                if item.wire is None:
                    collector.skip(item.problem)
                    continue
                collector.add(item.wire)
            extra: dict = {}
            if history_days > 0:
                start, end = _window(history_days, now)
                tick = progress.history(1)
                for record in db.iter_history(conn, start, end, wanted):
                    writer.add_run(record)
                    collector.counts["history_processes"] += 1
                    collector.counts["history_tasks"] += len(record["tasks"])
                tick()
                extra["history"] = {"start_time": iso(start), "end_time": iso(end)}
            manifest = _manifest(db.redact_dsn(dsn), collector, extra)
            manifest = writer.finish(manifest)
    except ExportError:
        raise
    except Exception as exc:  # a database error mid-export: one line, exit 2
        import psycopg

        if isinstance(exc, psycopg.Error):
            message = " ".join(str(exc).split())
            raise ExportError(f"--db {db.redact_dsn(dsn)}: {message[:300]}") from None
        raise
    finally:
        conn.close()
    return ExportResult(writer.out, manifest, collector.warnings)
