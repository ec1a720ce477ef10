"""`migrate convert` as a library call: load -> model -> rules -> IR -> code -> report.

The work is cut into units, one per process (migrate/units.py: mapped, rendered, report
fragments encoded), built by worker processes on every core (migrate/workers.py) and
remembered between runs (migrate/cache.py): a re-run reads only the definition files that
changed and builds only the processes whose inputs changed; the report files are
assembled from fragments, new ones and ones copied from the previous reports.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.cache import ConvertCache, CachedUnit, file_stat, fingerprint
from migrate.convert import base_dag_id, clash_findings
from migrate.convert.naming import assign_unique
from migrate.html import layout as html_layout
from migrate.html.index import INDEX, Row, assets, render_index
from migrate.ir import Finding
from migrate.mapping.rules import MappingRules
from migrate.output import OutputWriter, SyncResult, check_root
from migrate.problems import Problem
from migrate.report import (
    LONG_MESSAGE,
    REPORT_VERSION,
    FragmentSink,
    ProcessSummary,
    group_kinds,
    invalid_entries,
    join_entry,
    kind_counts,
    parity_json_chunks,
    parity_markdown,
    provenance_json_chunks,
    summary,
    text_key,
    with_findings,
)
from migrate.schedule import choose
from migrate.schedule.verify import DEFAULT_HORIZON_DAYS
from migrate.sundial.load import definition_files, duplicate_problem
from migrate.support.image import (
    WHEEL_DIR,
    dockerfile_text,
    requirements_text,
)
from migrate.support.wheel import build_wheel, support_sources
from migrate.target import target
from migrate.units import BuildSpec, BuiltUnit, UnitMeta, spec_key
from migrate.workers import WorkerPool, available_cores

# Airflow's plugins manager imports every .py file under the plugins folder as a top-level
# module; only the plugin entry point should be (the package is imported as sundial_compat.*).
PLUGINS_IGNORE = "# written by sundial-migrate\n*\n!sundial_compat_plugin.py\n"

# The reports holding one fragment per process (in process name order), which a re-run
# copies for the processes it does not convert again; and every estate-wide report file.
FRAGMENT_FILES = ("report/parity.json", "report/provenance.json")
REPORT_FILES = (*FRAGMENT_FILES, "report/parity.md", INDEX)

# Below this many definition files to read, starting workers costs more than it saves.
MIN_PARALLEL_FILES = 64

# File times advance in steps (the kernel's clock tick, a few ms): a file changed within
# this long of being looked at might change again without its time changing.  Such
# definition files are not remembered; after writing, the run waits this long once so
# the times it records for its own files are final.
RACY_NS = 50_000_000


class UsageError(ValueError):
    """The command cannot run at all (exit code 2)."""


@dataclass
class ConvertResult:
    processes: list[ProcessSummary] = field(default_factory=list)  # name order
    problems: list[Problem] = field(default_factory=list)
    report: dict | None = None  # report_version, timezone, summary, invalid
    sync: SyncResult | None = None
    built: int = 0  # processes converted in this run; the others were unchanged
    pictures: bool = True  # the process pages have graphs (Graphviz's dot was found)

    def exit_code(self, strict: bool) -> int:
        if self.problems:
            return 1
        if strict and any(any(p.counts[1:]) for p in self.processes):
            return 1
        return 0


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone {name!r} is not an IANA time zone (e.g. UTC, America/New_York)"
        ) from None
    return name


def convert(
    sources: list[Path],
    out: Path,
    mappings: list[Path] | tuple[Path, ...] = (),
    timezone: str = "UTC",
    progress=None,
    force: bool = False,
    inline_secrets: bool = False,
    jobs: int | None = None,
    cache: bool = True,
    airflow_version: str | None = None,
) -> ConvertResult:
    """Convert the definitions in ``sources`` into ``out``.  ``progress(iterable, length)``
    wraps the building of the processes; ``jobs``: worker processes (default: one per
    core when there is enough to do); ``cache=False`` converts everything again."""
    check_timezone(timezone)
    rules = MappingRules.load(list(mappings))
    if inline_secrets:
        rules = rules.with_defaults(inline_secrets=True)
    if airflow_version is not None:
        rules = rules.with_defaults(airflow_version=target(airflow_version).minor)
    files = [str(p) for p in definition_files(sources)]
    out = Path(out)
    try:
        check_root(out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    fp = fingerprint(rules, timezone)
    remembered = ConvertCache.load(out, fp) if cache else ConvertCache(fp)
    return _EstateBuild(files, out, rules, timezone, remembered, force).run(
        jobs, progress
    )


class _EstateBuild:
    """One run of convert over an estate."""

    def __init__(self, files, out, rules, tz, remembered: ConvertCache, force: bool):
        self.files = files
        self.out = out
        self.rules = rules
        self.tz = tz
        self.target = target(rules.defaults["airflow_version"].value)
        self.cache = remembered
        self.writer = OutputWriter(out, force=force)
        self.writer.trusted = remembered.outputs
        self.stats = {f: file_stat(f) for f in files}
        self.stat_time = time.time_ns()
        self.items: dict[str, list] = {}  # file -> what was read from it
        self.read_now: set[str] = set()  # files the workers hold in this run
        self.where: dict[str, tuple[str, int]] = {}  # process -> (file, position)
        self.schedule: dict[str, object] = {}
        self.problems: list[Problem] = []
        self.metas: dict[str, UnitMeta] = {}
        self.tuples: dict[tuple, tuple] = {}  # see _interned
        self.built: set[str] = set()
        self.fresh_aux: dict[str, dict[str, str]] = {}
        self.fragments: dict[str, tuple[str, tuple]] = {}  # name -> (source, locations)
        self.specs: dict[str, BuildSpec] = {}
        # fragments of the processes built in this run: parity.json lines (cut in two,
        # see report.parity_entry_parts), provenance.json lines
        self.spool = [tempfile.TemporaryFile() for _ in range(2)]
        self.spool_end = [0, 0]
        # the long messages and provenance shapes the lines name (key -> text)
        self.messages: dict[str, str] = dict(remembered.messages)
        self.shapes: dict[str, str] = dict(remembered.shapes)
        self.trailing: dict[str, tuple[Finding, ...]] = {}
        self.shared: list[dict] = []

    # -- the run --------------------------------------------------------------------

    def run(self, jobs: int | None, progress) -> ConvertResult:
        if not self._reports_intact():
            self.cache.units.clear()  # fragments can no longer be copied from them
        dirty = [f for f in self.files if not self._unchanged(f)]
        self.dirty = set(dirty)
        for f in self.files:
            if f not in dirty:
                self.items[f] = self.cache.files[f][1]
        choose.adopt_choices(self.cache.choices)
        if jobs is None:
            jobs = available_cores() if len(dirty) >= MIN_PARALLEL_FILES else 1
        with WorkerPool(self.rules, self.tz, jobs, self.writer) as pool:
            self.pool = pool
            self._read(dirty)
            self._index()
            need = self._plan()
            self.progress = progress
            for _ in range(4):  # settles in one round, two when shared files changed
                if need:
                    self._build(need)
                need = self._recheck()
                if not need:
                    break
            else:
                raise RuntimeError("convert: estate-wide findings did not settle")
            self._write_pages()
        try:
            return self._finish()
        finally:
            for handle in self.spool:
                handle.close()

    def _unchanged(self, f: str) -> bool:
        entry = self.cache.files.get(f)
        return entry is not None and entry[0] == self.stats[f]  # stats None: never

    def _reports_intact(self) -> bool:
        return bool(self.cache.reports) and all(
            rel in self.cache.reports
            and self.writer.intact(
                rel, self.cache.reports[rel][1], self.cache.reports[rel][0]
            )
            for rel in FRAGMENT_FILES
        )

    def _read(self, paths: list[str]) -> None:
        paths = [p for p in paths if p not in self.read_now]
        for path, items in self.pool.read(paths):
            self.items[path] = items
        self.read_now.update(paths)

    def _index(self) -> None:
        """The estate as read: problems and the first definition of every name."""
        seen: dict[str, str] = {}
        for f in self.files:
            for item in self.items[f]:
                if item[0] == "problem":
                    self.problems.append(item[1])
                    continue
                _, position, name, source, schedule = item
                duplicate = duplicate_problem(name, source, seen)
                if duplicate:
                    self.problems.append(duplicate)
                    continue
                self.where[name] = (f, position)
                self.schedule[name] = schedule
        names = list(self.where)
        self.ids = assign_unique(names, lambda n: base_dag_id(n, self.rules))
        self.leading = clash_findings(names, self.ids, self.rules)

    def _plan(self) -> dict[str, BuildSpec]:
        """What must be built: every process the cache cannot vouch for."""
        reusable = {}
        for name, position in self.where.items():
            cached = self.cache.units.get(name)
            if cached is not None and cached.position == position:
                reusable[name] = cached
        self.metas = {name: c.meta for name, c in reusable.items()}  # a prediction
        trailing = _aux_findings(_shared_files(self.metas))
        need = {}
        for name in self.where:
            spec = self._spec(name)
            cached = reusable.get(name)
            if (
                cached is None
                or self.where[name][0] in self.dirty
                or cached.meta.spec_key != spec_key(spec, trailing.get(name, ()))
                or not self.writer.intact(
                    cached.meta.summary.file, cached.meta.dag_digest
                )
                or (
                    cached.meta.page is not None
                    and not self.writer.intact(
                        cached.meta.page, cached.meta.page_digest
                    )
                )
            ):
                need[name] = spec
            else:
                self.fragments[name] = ("old", cached.fragments)
        return need

    def _spec(self, name: str) -> BuildSpec:
        spec = self.specs[name] = BuildSpec(self.ids[name], self.leading.get(name, ()))
        return spec

    def _build(self, need: dict[str, BuildSpec]) -> None:
        self._read(sorted({self.where[name][0] for name in need}))
        wanted = {
            self.schedule[name] for name in need if self.schedule[name] is not None
        }
        known = choose.known_choices()
        missing = sorted(
            (s for s in wanted if (s, self.tz, DEFAULT_HORIZON_DAYS) not in known),
            key=repr,
        )
        if missing:
            choose.adopt_choices(self.pool.prove(missing))
        by_key = {self.where[name]: name for name in need}
        jobs = [(self.where[name], spec) for name, spec in sorted(need.items())]
        results = self.pool.build(jobs)
        if self.progress:
            results = self.progress(results, len(jobs))
        for key, result in results:
            name = by_key[key]
            if isinstance(result, Problem):
                self.problems.append(result)
                self.metas.pop(name, None)
                self.fragments.pop(name, None)
                continue
            self._take(name, result)

    def _take(self, name: str, unit: BuiltUnit) -> None:
        if not self.pool.local:  # written by the worker: record what happened
            self.writer.note(unit.meta.summary.file, unit.written)
        self.built.add(name)
        self.metas[name] = _interned(unit.meta, self.tuples)
        self.fresh_aux[name] = unit.aux
        self.messages.update(unit.messages)
        self.shapes.update(unit.shapes)
        self.fragments[name] = (
            "new",
            (
                self._spool(0, unit.entry_head),
                self._spool(0, unit.entry_tail),
                self._spool(1, unit.provenance),
            ),
        )

    def _spool(self, i: int, data: bytes) -> tuple[int, int]:
        self.spool[i].write(data)
        location = (self.spool_end[i], len(data))
        self.spool_end[i] += len(data)
        return location

    def _recheck(self) -> dict[str, BuildSpec]:
        """Remembered processes whose estate-wide findings changed (a job definition they
        write is now shared with different contents, or no longer), and shared files whose
        remembered writer must write them again.  Processes built in this run get their
        estate-wide findings when the reports are written."""
        self.shared = _shared_files(self.metas)
        self.trailing = _aux_findings(self.shared)
        need = {}
        for name, meta in self.metas.items():
            if name in self.built:
                continue
            spec = self._spec(name)
            if meta.spec_key != spec_key(spec, self.trailing.get(name, ())):
                need[name] = spec
        for rel, owner in _aux_owners(self.metas).items():
            if owner in self.built or owner in need:
                continue
            if not self.writer.intact(rel, self.metas[owner].aux_digests[rel]):
                need[owner] = self.specs[owner]
        return need

    def _write_pages(self) -> None:
        """The pages of the processes built in this run, now that the findings other
        processes cause are known, written by the workers that built them."""
        by_key = {self.where[name]: name for name in self.built}
        items = [
            (self.where[name], self.trailing.get(name, ()))
            for name in sorted(self.built)
        ]
        for key, outcome, digest in self.pool.pages(items):
            meta = self.metas[by_key[key]]
            if not self.pool.local:  # written by the worker: record what happened
                self.writer.note(meta.page, outcome)
            meta.page_digest = digest

    # -- writing what is not a DAG file ---------------------------------------------

    def _finish(self) -> ConvertResult:
        writer = self.writer
        names = sorted(self.metas)
        for name in names:
            meta = self.metas[name]
            if name in self.built:  # now its estate-wide findings are known
                more = self.trailing.get(name, ())
                meta.summary = with_findings(meta.summary, more)
                meta.spec_key = spec_key(self.specs[name], more)
                if more:
                    meta.kinds = _interned_kinds(
                        _merge_kinds(meta.kinds, kind_counts(more, ()))
                    )
                    meta.message_keys = tuple(
                        sorted(
                            {
                                *meta.message_keys,
                                *(
                                    sys.intern(text_key(f.message))
                                    for f in more
                                    if len(f.message) > LONG_MESSAGE
                                ),
                            }
                        )
                    )
            else:
                writer.keep(meta.summary.file, meta.dag_digest)
                if meta.page is not None:
                    writer.keep(meta.page, meta.page_digest)
        fresh = []
        for rel, owner in sorted(_aux_owners(self.metas).items()):
            if owner in self.built:
                fresh.append((rel, self.fresh_aux[owner][rel]))
            else:
                writer.keep(rel, self.metas[owner].aux_digests[rel])

        def write_aux() -> None:
            for rel, text in fresh:
                writer.put(rel, text)

        # creating thousands of small files is mostly kernel time: a thread does it while
        # this one assembles the reports (the writer's records are per file, and single
        # dict and list operations are atomic)
        aux_pool = ThreadPoolExecutor(1, thread_name_prefix="aux-files")
        aux_written = aux_pool.submit(write_aux)
        wheel = None
        if any(self.metas[name].support for name in names):
            # the whole package (operators, the Quartz timetable, its engine, the plugin
            # that registers it), so DAG imports and the registered timetable share one source
            for rel, data in support_sources():
                writer.put_bytes(f"plugins/sundial_compat/{rel}", data)
            writer.put("plugins/sundial_compat/.airflowignore", PLUGINS_IGNORE)
            # the same package, installable (pip) with an airflow.plugins entry point
            wheel, wheel_bytes = build_wheel(airflow=self.target)
            writer.put_bytes(f"{WHEEL_DIR}/{wheel}", wheel_bytes)
        writer.put("requirements.txt", requirements_text(wheel, self.target))
        writer.put("Dockerfile", dockerfile_text(wheel, self.target))
        processes = [self.metas[name].summary for name in names]
        exact_by_field: dict[str, int] = {}
        for name in names:
            for kind, count in self.metas[name].exact_kinds:
                exact_by_field[kind] = exact_by_field.get(kind, 0) + count
        report = {
            "report_version": REPORT_VERSION,
            "timezone": self.tz,
            "airflow": {
                "version": self.target.minor,
                "proven_on": self.target.airflow,
                # every DAG created paused until its cutover (verify holds them to it)
                "dags_paused_on_deploy": bool(
                    self.rules.defaults["dags_paused_on_deploy"].value
                ),
            },
            "summary": summary(processes, self.problems, exact_by_field),
            "invalid": invalid_entries(self.problems),
            "shared_files": self.shared,
        }
        pictures = html_layout.available()
        try:
            sinks = self._write_reports(report, processes, names)
            self._write_html(report, names, pictures)
        finally:
            aux_pool.shutdown(wait=True)
        aux_written.result()  # its error, if any, is this run's
        result = ConvertResult(
            processes=processes,
            problems=list(self.problems),
            report=report,
            built=len(self.built),
            pictures=pictures,
        )
        result.sync = writer.finish()
        result.problems.extend(result.sync.refused)
        self._remember(names, sinks)
        return result

    def _write_reports(self, report, processes, names) -> list[FragmentSink]:
        old = []
        for rel in FRAGMENT_FILES:
            try:
                old.append(os.open(self.out / rel, os.O_RDONLY))
            except OSError:
                old.append(None)
        for handle in self.spool:
            handle.flush()
        spool = [handle.fileno() for handle in self.spool]

        def read(fd, location) -> bytes:
            offset, length = location
            data = os.pread(fd, length, offset)
            if len(data) != length:
                raise RuntimeError("convert: a report changed while it was read")
            return data

        def fragments(i: int):
            for name in names:
                source, locations = self.fragments[name]
                if source == "old":
                    yield read(old[i], locations[i])
                elif i == 0:
                    head, tail = (read(spool[0], loc) for loc in locations[:2])
                    more = list(self.trailing.get(name, ()))
                    yield join_entry(head, tail, more, self.messages)
                else:
                    yield read(spool[1], locations[2])

        def table(texts: dict[str, str], field: str):
            def live() -> dict[str, str]:
                keys = set()
                for name in names:
                    keys.update(getattr(self.metas[name], field))
                return {k: texts[k] for k in keys}

            return live

        sinks = [FragmentSink() for _ in FRAGMENT_FILES]
        try:
            self.writer.put_chunks(
                FRAGMENT_FILES[0],
                parity_json_chunks(
                    report,
                    fragments(0),
                    sinks[0],
                    table(self.messages, "message_keys"),
                ),
            )
            self.writer.put_chunks(
                FRAGMENT_FILES[1],
                provenance_json_chunks(
                    fragments(1), sinks[1], table(self.shapes, "shape_keys")
                ),
            )
        finally:
            for fd in old:
                if fd is not None:
                    os.close(fd)
        rows = [(self.metas[name].summary, self.metas[name].page) for name in names]
        kinds = group_kinds({name: self.metas[name].kinds for name in names})
        self.writer.put(
            "report/parity.md",
            parity_markdown(report, rows, kinds, INDEX.removeprefix("report/")),
        )
        self.kinds = kinds
        return sinks

    def _write_html(self, report: dict, names: list[str], pictures: bool) -> None:
        """report/index.html and the files beside it (the pages are the workers')."""
        position = {
            (g.severity, g.field, g.wording): i for i, g in enumerate(self.kinds)
        }
        rows = []
        for name in names:
            meta = self.metas[name]
            s = meta.summary
            rows.append(
                Row(
                    s.process,
                    s.dag_id,
                    s.file,
                    meta.page,
                    s.counts,
                    s.worst,
                    meta.executors,
                    meta.tasks,
                    tuple(sorted(position[k[:3]] for k in meta.kinds)),
                )
            )
        to_create = [c for name in names for c in self.metas[name].summary.to_create]
        for rel, data in sorted(assets().items()):
            self.writer.put_bytes(rel, data)
        self.writer.put(
            INDEX, render_index(report, rows, self.kinds, to_create, pictures)
        )

    def _remember(self, names: list[str], sinks: list[FragmentSink]) -> None:
        cache = ConvertCache(self.cache.fingerprint)
        cache.choices = choose.known_choices()
        cache.files = {
            f: (self.stats[f], self.items[f])
            for f in self.files
            if self.stats[f] is not None
            and f in self.items
            and self.stats[f][1] < self.stat_time - RACY_NS
        }
        cache.outputs = self.writer.stats()
        newest = max((stat[1] for stat in cache.outputs.values()), default=0)
        wait = newest + RACY_NS - time.time_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        written = set(self.writer.result.written) | set(self.writer.result.unchanged)
        if all(rel in written and rel in cache.outputs for rel in FRAGMENT_FILES):
            cache.reports = {
                rel: (cache.outputs[rel], self.writer.recorded[rel])
                for rel in FRAGMENT_FILES
            }
            for i, name in enumerate(names):
                cache.units[name] = CachedUnit(
                    self.where[name],
                    self.metas[name],
                    tuple(sink.placed[i] for sink in sinks),
                )
            live = {k for name in names for k in self.metas[name].message_keys}
            cache.messages = {k: self.messages[k] for k in live}
            live = {k for name in names for k in self.metas[name].shape_keys}
            cache.shapes = {k: self.shapes[k] for k in live}
        try:
            cache.save(self.out)
        except OSError:
            pass  # a cache that cannot be written only costs time next run


def _interned_kinds(kinds) -> tuple:
    return tuple(
        (sys.intern(a), sys.intern(b), sys.intern(c), n) for a, b, c, n in kinds
    )


def _merge_kinds(a, b) -> tuple:
    counts: dict[tuple[str, str, str], int] = {}
    for *k, n in (*a, *b):
        counts[tuple(k)] = counts.get(tuple(k), 0) + n
    return tuple((*k, n) for k, n in sorted(counts.items()))


def _interned(meta: UnitMeta, shared: dict[tuple, tuple]) -> UnitMeta:
    """One object per distinct kind, count, list of counts and key across the estate
    (``shared``: the run's tuples so far): the cache pickles (and loads) each once,
    however many processes share it."""

    def one(value: tuple) -> tuple:
        return shared.setdefault(value, value)

    meta.kinds = one(tuple(map(one, _interned_kinds(meta.kinds))))
    meta.exact_kinds = one(tuple(one((sys.intern(k), n)) for k, n in meta.exact_kinds))
    meta.executors = tuple(map(sys.intern, meta.executors))
    meta.message_keys = tuple(map(sys.intern, meta.message_keys))
    meta.shape_keys = tuple(map(sys.intern, meta.shape_keys))
    return meta


def _aux_owners(metas: dict[str, UnitMeta]) -> dict[str, str]:
    """Shared file -> the process whose version is written (the last in name order)."""
    owners = {}
    for name in sorted(metas):
        for rel in metas[name].aux_digests:
            owners[rel] = name
    return owners


def _shared_files(metas: dict[str, UnitMeta]) -> list[dict]:
    """Files several processes write with different contents (Sundial named Batch job
    definitions after the task alone, so processes with a task of the same name shared
    one).  One entry per file: who shares it and whose version is written."""
    sharers: dict[str, list[str]] = {}
    for name in sorted(metas):
        for rel in metas[name].aux_digests:
            sharers.setdefault(rel, []).append(name)
    out = []
    for rel, sharing in sorted(sharers.items()):
        versions = len({metas[n].aux_digests[rel] for n in sharing})
        if versions > 1:
            out.append(
                {
                    "file": rel,
                    "versions": versions,
                    "written_from": sharing[-1],
                    "processes": sharing,
                }
            )
    return out


def _aux_findings(shared: list[dict]) -> dict[str, tuple[Finding, ...]]:
    """Each process writing a shared file says so.  The finding names no other process, so
    a process's report does not change when others come and go (the list is estate-wide).
    """
    out: dict[str, list[Finding]] = {}
    for entry in shared:
        for name in entry["processes"]:
            out.setdefault(name, []).append(
                Finding(
                    "approximated",
                    "task_definitions",
                    f"{entry['file']} is also written for other processes, with different "
                    "contents: Sundial named job definitions after the task alone, so each run "
                    "re-registered it, as the generated register task will; the report's "
                    "shared_files lists the processes and whose version the file holds",
                )
            )
    return {name: tuple(findings) for name, findings in out.items()}
