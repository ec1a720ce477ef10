"""Converting on every core: worker processes that each read a share of the definition
files, prove a share of the distinct schedules, and build the units of the processes they
read.  A worker keeps what it read between steps, so nothing big crosses a pipe but the
finished units.  With one worker (small work, or one core) everything runs in this process.

Workers are forked (Linux): they inherit the loaded mapping rules and the proven schedules.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from pathlib import Path
from multiprocessing.connection import wait

from migrate.html.page import PagePlan, render_pages
from migrate.ir import Finding
from migrate.mapping.rules import MappingRules
from migrate.output import OutputWriter, sha256
from migrate.problems import Problem
from migrate.schedule import choose
from migrate.sundial.load import read_definition_file
from migrate.sundial.model import CronSchedule, ProcessDefinition
from migrate.units import BuildSpec, BuiltUnit, build_unit

# (file, position in the file): the key of a definition while it is being converted
DefKey = tuple[str, int]


class WorkerError(RuntimeError):
    """A worker process died or failed outside the per-process error handling."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Converter:
    """The work of one worker, in whatever process it runs."""

    def __init__(self, rules: MappingRules, tz: str, writer: OutputWriter):
        self.rules = rules
        self.tz = tz
        self.writer = writer  # in a worker, a copy: outcomes go back with the units
        self.loaded: dict[DefKey, ProcessDefinition] = {}
        self.plans: dict[DefKey, PagePlan] = {}  # pages of the units built, to write

    def read(self, paths: list[str]) -> list[tuple[str, list]]:
        """Per file: ("problem", Problem) or ("process", position, name, source, schedule)."""
        out = []
        for path in paths:
            items: list = []
            for position, parsed in enumerate(read_definition_file(Path(path))):
                if isinstance(parsed, Problem):
                    items.append(("problem", parsed))
                    continue
                self.loaded[(path, position)] = parsed
                schedule = (
                    parsed.schedule
                    if isinstance(parsed.schedule, CronSchedule)
                    else None
                )
                items.append(
                    ("process", position, parsed.name, str(parsed.source), schedule)
                )
            out.append((path, items))
        return out

    def prove(self, schedules: list[CronSchedule]) -> dict:
        wanted = set(schedules)
        for schedule in schedules:
            choose.choose_schedule(schedule, self.tz)
        return {
            k: v
            for k, v in choose.known_choices().items()
            if k[0] in wanted and k[1] == self.tz
        }

    def adopt(self, choices: dict) -> None:
        choose.adopt_choices(choices)

    def build(self, key: DefKey, spec: BuildSpec) -> BuiltUnit | Problem:
        """Build the unit and write its DAG file (each DAG file has one process, so
        workers can write theirs side by side); the text is not sent back."""
        unit = build_unit(self.loaded[key], spec, self.rules, self.tz)
        if isinstance(unit, BuiltUnit):
            unit.written = self.writer.put_bytes(unit.meta.summary.file, unit.dag)
            unit.dag = b""
            self.plans[key] = unit.plan
            unit.plan = None
        return unit

    def pages(
        self, items: list[tuple[DefKey, tuple[Finding, ...]]]
    ) -> list[tuple[DefKey, tuple, str]]:
        """Write the pages of units built here, with the findings the estate added to
        each (``items``); forget every other plan.  Per page: (key, what writing it
        did, its digest)."""
        todo = [
            (key, self.plans[key], more) for key, more in items if key in self.plans
        ]
        self.plans = {}
        out = []
        for start in range(0, len(todo), _PAGE_BATCH):
            chunk = todo[start : start + _PAGE_BATCH]
            for (key, plan, _), data in zip(
                chunk, render_pages([(plan, more) for _, plan, more in chunk])
            ):
                out.append((key, self.writer.put_bytes(plan.path, data), sha256(data)))
        return out


class WorkerPool:
    """``size`` workers; files are dealt out round-robin and each definition is built by
    the worker that read it."""

    def __init__(self, rules: MappingRules, tz: str, size: int, writer: OutputWriter):
        if "fork" not in multiprocessing.get_all_start_methods():
            size = (
                1  # workers inherit the run's state by forking; elsewhere, one process
            )
        self.size = max(1, size)
        self.local = Converter(rules, tz, writer) if self.size == 1 else None
        self.owner: dict[str, int] = {}  # file -> worker index
        self.pipes = []
        self.procs = []
        if self.local is None:
            ctx = multiprocessing.get_context("fork")
            for _ in range(self.size):
                parent, child = ctx.Pipe()
                # the child closes its copies of the parent's ends (its own and the
                # earlier workers'), so a parent that dies leaves it an EOF, not a
                # pipe it would wait on forever
                inherited = [*self.pipes, parent]
                proc = ctx.Process(
                    target=_serve,
                    args=(child, rules, tz, writer, os.getpid(), inherited),
                    daemon=True,
                )
                proc.start()
                child.close()
                self.pipes.append(parent)
                self.procs.append(proc)

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        self.close(abandon=kind is not None)

    def close(self, abandon: bool = False) -> None:
        """Stop the workers: at once when the run failed (``abandon``), else when they
        finish what they are doing."""
        if abandon:
            for proc in self.procs:
                proc.kill()
        for pipe in self.pipes:
            try:
                pipe.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        self.pipes, self.procs = [], []

    def _call_all(self, calls: list[tuple]) -> list:
        """Send calls[i] to worker i, gather the replies in order."""
        for pipe, call in zip(self.pipes, calls):
            pipe.send(call)
        return [_reply(pipe) for pipe in self.pipes]

    def read(self, paths: list[str]) -> list[tuple[str, list]]:
        """Read files (in any number of rounds); returns per file its items, in the order given."""
        if self.local:
            for path in paths:
                self.owner[path] = 0
            return self.local.read(paths)
        shares: list[list[str]] = [[] for _ in range(self.size)]
        start = len(self.owner)
        for i, path in enumerate(paths):
            worker = (start + i) % self.size
            self.owner[path] = worker
            shares[worker].append(path)
        replies = self._call_all([("read", share) for share in shares])
        by_path = dict(item for reply in replies for item in reply)
        return [(path, by_path[path]) for path in paths]

    def prove(self, schedules: list[CronSchedule]) -> dict:
        """Prove each distinct schedule once (split among the workers), then give every
        worker all the results."""
        if self.local:
            return self.local.prove(schedules)
        shares = [schedules[i :: self.size] for i in range(self.size)]
        choices: dict = {}
        for reply in self._call_all([("prove", share) for share in shares]):
            choices.update(reply)
        self.adopt(choices)
        return choices

    def adopt(self, choices: dict) -> None:
        if self.local:
            self.local.adopt(choices)
            return
        if choices:
            self._call_all([("adopt", choices)] * self.size)

    def pages(self, items: list[tuple[DefKey, tuple[Finding, ...]]]) -> list[tuple]:
        """Each worker writes the pages of the units it built (see Converter.pages)."""
        if self.local:
            return self.local.pages(items)
        shares: list[list] = [[] for _ in range(self.size)]
        for key, more in items:
            shares[self.owner[key[0]]].append((key, more))
        replies = self._call_all([("pages", share) for share in shares])
        return [item for reply in replies for item in reply]

    def build(self, jobs: list[tuple[DefKey, BuildSpec]]):
        """Yield (key, unit or problem) as the workers finish them (not in order)."""
        if self.local:
            for key, spec in jobs:
                yield key, self.local.build(key, spec)
            return
        shares: list[list] = [[] for _ in range(self.size)]
        for key, spec in jobs:
            shares[self.owner[key[0]]].append((key, spec))
        busy = {}
        for pipe, share in zip(self.pipes, shares):
            pipe.send(("build", share))
            busy[pipe] = True
        while busy:
            for pipe in wait(list(busy)):
                message = _reply(pipe)
                if message is None:
                    del busy[pipe]
                else:
                    yield from message


def _reply(pipe):
    try:
        status, value = pipe.recv()
    except EOFError:
        raise WorkerError(
            "a convert worker process died (out of memory?); try fewer --jobs"
        ) from None
    if status == "error":
        last = value.strip().splitlines()[-1]
        raise WorkerError(
            f"a convert worker failed: {last} (re-run with --jobs 1 for the traceback)"
        )
    return value


_BATCH = 32  # units sent back per message
_PAGE_BATCH = 400  # pages laid out (one dot run) and written at a time


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker when the convert that forked it dies, however it
    dies (SIGKILL included: nothing of the parent runs then), and leave at once if that
    already happened before the request took effect."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the closed pipe ends still give the worker an EOF
    if os.getppid() != parent_pid:
        os._exit(1)


def _serve(
    pipe,
    rules: MappingRules,
    tz: str,
    writer: OutputWriter,
    parent_pid: int,
    inherited=(),
) -> None:
    _die_with_parent(parent_pid)
    for end in inherited:
        end.close()
    converter = Converter(rules, tz, writer)
    while True:
        try:
            call = pipe.recv()
        except EOFError:
            return
        name, args = call[0], call[1:]
        if name == "stop":
            return
        try:
            if name == "build":
                batch = []
                for key, spec in args[0]:
                    batch.append((key, converter.build(key, spec)))
                    if len(batch) >= _BATCH:
                        pipe.send(("ok", batch))
                        batch = []
                if batch:
                    pipe.send(("ok", batch))
                pipe.send(("ok", None))
            else:
                pipe.send(("ok", getattr(converter, name)(*args)))
        except Exception:
            pipe.send(("error", traceback.format_exc()))
