"""The parity report: a query over the intermediate model, as JSON (contract) and Markdown.

Report version 2 keeps an estate of 10,000 processes readable (tens of MB, not hundreds):

* ``parity.json`` lists every finding that is not exact in full and counts the exact ones
  (per process, and per field kind for the estate; each process page lists them with how
  each field is carried over).  A message longer than LONG_MESSAGE characters is written
  once, in ``messages``, keyed by a digest of its text, and a finding names it by that key
  (``"see"``) instead of repeating it: the long explanations are the same across thousands
  of tasks.  ``read_parity`` gives every finding with its message.
* ``provenance.json`` names, for every DAG and task, a "shape": the operator and, per
  argument, the Sundial fields and the rule that produced it, with the task's own path
  written ``@``; the few hundred shapes of an estate are listed once.  ``read_provenance``
  gives the version 1 layout.

Keys are digests of the text they stand for, so a process's line does not depend on the
other processes (the convert cache copies unchanged lines from the previous report).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from migrate.ir import SEVERITIES, DagModel, Finding
from migrate.problems import Problem
from migrate.stdio import printable
from migrate.sundial.wire import task_path

REPORT_VERSION = 2
LONG_MESSAGE = 120  # longer messages are written once, in "messages"
KEY_LENGTH = 16  # hex digits of sha256 (64 bits)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[
        :KEY_LENGTH
    ]


def finding_entry(f: Finding, messages: dict[str, str]) -> dict:
    """A finding as parity.json writes it; a long message goes to ``messages``."""
    if len(f.message) <= LONG_MESSAGE:
        return f.as_dict()
    key = text_key(f.message)
    messages[key] = f.message
    return {"severity": f.severity, "field": f.field, "see": key}


def split_field(field: str, task_names) -> tuple[str | None, str]:
    """(the Sundial task a field belongs to, or None for the process; the field inside
    it).  The longest task path wins: names may hold brackets and dots.  ``task_names``:
    the process's task names, or a TaskFields (which remembers each answer)."""
    if isinstance(task_names, TaskFields):
        return task_names.split(field)
    if not field.startswith("task_definitions["):
        return None, field
    best = None
    for name in task_names:
        prefix = task_path(name)
        if (
            field == prefix or field.startswith(prefix) and field[len(prefix)] in ".["
        ) and (best is None or len(name) > len(best)):
            best = name
    if best is None:
        return None, field
    return best, field[len(task_path(best)) :].lstrip(".") or "(the task)"


class TaskFields:
    """A process's task names, and which task each field is about, worked out once per
    field (a process has dozens of findings, each looked at several times)."""

    def __init__(self, names):
        self.names = tuple(names)
        self._set = frozenset(self.names)
        self._seen: dict[str, tuple[str | None, str]] = {}
        self._kinds: dict[str, str] = {}

    @classmethod
    def of(cls, process) -> "TaskFields":
        """The task names of a Sundial process, in name order."""
        return cls(sorted(t.name for t in process.tasks))

    def __iter__(self):
        return iter(self.names)

    def split(self, field: str) -> tuple[str | None, str]:
        found = self._seen.get(field)
        if found is None:
            found = self._seen[field] = self._split(field)
        return found

    def kind(self, field: str) -> str:
        """field_kind of ``field``, remembered."""
        found = self._kinds.get(field)
        if found is None:
            found = self._kinds[field] = _field_kind(field, self)
        return found

    def _split(self, field: str) -> tuple[str | None, str]:
        """split_field, looking the name up at each "]" from the right (the longest
        task path that matches wins, as there)."""
        start = len("task_definitions[")
        if not field.startswith("task_definitions["):
            return None, field
        end = len(field)
        while True:
            end = field.rfind("]", start, end)
            if end < 0:
                return None, field
            name = field[start:end]
            after = field[end + 1 : end + 2]
            if name in self._set and after in ("", ".", "["):
                return name, field[end + 1 :].lstrip(".") or "(the task)"


_INDEX = re.compile(r"\[\d+\]")


def field_kind(field: str, task_names=()) -> str:
    """The field with its task's name and list positions left out:
    ``task_definitions[].executable.batch_image_command.image``, ``notifications[].email``.
    """
    if isinstance(task_names, TaskFields):
        return task_names.kind(field)
    return _field_kind(field, task_names)


def _field_kind(field: str, task_names) -> str:
    task, rest = split_field(field, task_names)
    if task is not None:
        return "task_definitions[]" + (
            "" if rest == "(the task)" else "." + _unindexed(rest)
        )
    return _unindexed(field)


@lru_cache(maxsize=4096)
def _unindexed(field: str) -> str:
    return _INDEX.sub("[]", field) if "[" in field else field


# What varies between two findings of one kind: quoted names, numbers, addresses, the
# files written for a process, Airflow Variable and environment variable names.  What is
# left is the kind's wording.
_VARYING = re.compile(
    r"(?<![\w'])'[^'\n]*'(?!\w)"
    r'|(?<![\w"])"[^"\n]*"(?!\w)'
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[\w.-]*(?:/[\w.-]+)+\.json\b"
    r"|\b\w+__\w+\b"
    r"|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"
    r"|\b\d+(?:\.\d+)?\b"
)
_LIST = re.compile(r"…(?:, …)+")


@lru_cache(maxsize=8192)
def template(message: str) -> str:
    """A message with what varies between instances of its kind (names, numbers,
    addresses, environment variable names...) replaced by "…"."""
    return _LIST.sub("…", _VARYING.sub("…", message))


def difference_kind(f: Finding, task_names=()) -> tuple[str, str, str]:
    """(severity, field kind, wording): findings of one kind across the estate."""
    return (f.severity, field_kind(f.field, task_names), template(f.message))


def process_entry(m: DagModel, page: str | None = None) -> dict:
    """The process's line in parity.json before its messages are keyed (see
    parity_entry_parts); ``page``: its HTML page, relative to the output directory."""
    entry = {"process": m.process, "dag_id": m.dag_id, "file": m.file}
    if page is not None:
        entry["page"] = page
    entry.update(
        {
            "tasks": dict(m.task_map),
            "findings": [f.as_dict() for f in m.findings if f.severity != "exact"],
            "exact": sum(1 for f in m.findings if f.severity == "exact"),
            "api_generations": list(m.generations),
            "to_create": [
                {"kind": kind, "id": ident, "purpose": purpose}
                for kind, ident, purpose in m.to_create
            ],
        }
    )
    return entry


@dataclass(frozen=True)
class ProcessSummary:
    """What the estate-wide parts of the reports need of one process (its full entry and
    Markdown section are written once, as fragments, and copied into place)."""

    process: str
    dag_id: str
    file: str
    counts: tuple[int, ...]  # findings per severity, in SEVERITIES order
    to_create: tuple[tuple[str, str, str], ...]

    @property
    def worst(self) -> str:
        for severity, count in reversed(list(zip(SEVERITIES, self.counts))):
            if count:
                return severity
        return "exact"


def summarize(m: DagModel) -> ProcessSummary:
    counts = Counter(f.severity for f in m.findings)
    return ProcessSummary(
        m.process,
        m.dag_id,
        m.file,
        tuple(counts.get(s, 0) for s in SEVERITIES),
        tuple(m.to_create),
    )


def parity_entry_parts(
    m: DagModel, page: str | None = None
) -> tuple[str, str, dict[str, str]]:
    """The process's line in parity.json, cut after its last finding, so findings known
    only once the whole estate is built can be put in between: head + tail is the line,
    head + ", " + more findings + tail (or head + more + tail when it has none) too.
    Also the long messages it names (key -> text)."""
    entry = process_entry(m, page)
    messages: dict[str, str] = {}
    findings = [finding_entry(f, messages) for f in m.findings if f.severity != "exact"]
    entry.pop("findings")
    rest = {k: entry.pop(k) for k in ("exact", "api_generations", "to_create")}
    head = json.dumps(entry, ensure_ascii=False)[:-1] + ', "findings": ['
    head += ", ".join(json.dumps(f, ensure_ascii=False) for f in findings)
    tail = "], " + json.dumps(rest, ensure_ascii=False)[1:]
    return head, tail, messages


def join_entry(
    head: bytes, tail: bytes, more: list[Finding], messages: dict[str, str]
) -> bytes:
    """head + the findings known only now (their long messages go to ``messages``) + tail."""
    more = [f for f in more if f.severity != "exact"]
    if not more:
        return head + tail
    extra = ", ".join(
        json.dumps(finding_entry(f, messages), ensure_ascii=False) for f in more
    )
    sep = b"" if head.endswith(b"[") else b", "
    return head + sep + extra.encode("utf-8", "backslashreplace") + tail


def provenance_json(m: DagModel) -> tuple[str, dict[str, str]]:
    """The process's line in provenance.json, and the shapes it names (key -> JSON)."""
    shapes: dict[str, str] = {}

    def shape(value: dict) -> str:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        key = text_key(text)
        shapes[key] = text
        return key

    tasks: dict[str, dict[str, str]] = {}
    structural: dict[str, str] = {}
    for n in m.tasks:
        own = task_path(n.sundial_task) if n.sundial_task is not None else None
        value = {
            "operator": f"{n.operator.module}.{n.operator.name}",
            "arguments": {
                k: _provenance(a.provenance.as_dict(), own)
                for k, a in n.arguments.items()
            },
        }
        if n.sundial_task is None:
            structural[n.task_id] = shape(value)
        else:
            tasks.setdefault(n.sundial_task, {})[n.task_id] = shape(value)
    entry = {
        "process": m.process,
        "dag_id": m.dag_id,
        "dag": shape({"arguments": dag_provenance(m)}),
        "tasks": tasks,
        "structural": structural,
    }
    return json.dumps(entry, ensure_ascii=False), shapes


def _provenance(value: dict, own: str | None) -> dict:
    """A task's own fields written ``@...`` (so tasks of one kind share a shape)."""
    if own is None:
        return value
    fields = []
    for f in value["fields"]:
        assert not f.startswith("@"), f  # no Sundial field path starts so
        if f == own or f.startswith(own) and f[len(own)] in ".[":
            f = "@" + f[len(own) :]
        fields.append(f)
    return {"fields": fields, "rule": value["rule"]}


def with_findings(s: ProcessSummary, more: list[Finding]) -> ProcessSummary:
    counts = Counter(f.severity for f in more)
    return replace(
        s, counts=tuple(c + counts.get(k, 0) for c, k in zip(s.counts, SEVERITIES))
    )


def summary(
    processes: list[ProcessSummary],
    problems: list[Problem],
    exact_by_field: dict[str, int] | None = None,
) -> dict:
    counts = [sum(p.counts[i] for p in processes) for i in range(len(SEVERITIES))]
    worst = Counter(p.worst for p in processes)
    out = {
        "processes_converted": len(processes),
        "definitions_invalid": len(problems),
        "findings": dict(zip(SEVERITIES, counts)),
        "processes_by_worst_finding": {s: worst.get(s, 0) for s in SEVERITIES},
    }
    if exact_by_field is not None:
        out["exact_by_field"] = dict(sorted(exact_by_field.items()))
    return out


def invalid_entries(problems: list[Problem]) -> list[dict]:
    return [
        {
            "file": p.file,
            "process": p.process,
            "field": p.field,
            "message": p.message,
            "hint": p.hint,
        }
        for p in problems
    ]


class FragmentSink:
    """Where assembled report files record the byte position of each process's fragment
    (so the next run can copy it instead of converting the process again)."""

    def __init__(self):
        self.position = 0
        self.placed: list[tuple[int, int]] = []

    def emit(self, data: bytes) -> bytes:
        self.position += len(data)
        return data

    def fragment(self, prefix: bytes, data: bytes, suffix: bytes) -> bytes:
        self.placed.append((self.position + len(prefix), len(data)))
        return self.emit(prefix + data + suffix)


def parity_json_chunks(report: dict, entries, sink: FragmentSink, messages):
    """parity.json as bytes: one line per process (its fragment), per invalid entry, per
    shared file, and per long message (``messages``: key -> text, called once the
    entries have been written)."""
    yield sink.emit(
        b"{\n"
        + f'  "report_version": {json.dumps(report["report_version"])},\n'.encode()
        + f'  "timezone": {json.dumps(report["timezone"], ensure_ascii=False)},\n'.encode(
            "utf-8", "backslashreplace"
        )
        + f'  "airflow": {json.dumps(report["airflow"])},\n'.encode()
        + f'  "summary": {json.dumps(report["summary"])},\n'.encode()
    )
    yield from _json_list(b"processes", entries, sink, last=False)
    invalid = (
        json.dumps(p, ensure_ascii=False).encode("utf-8", "backslashreplace")
        for p in report["invalid"]
    )
    yield from _json_list(b"invalid", invalid, FragmentSink(), last=False)
    shared = (
        json.dumps(p, ensure_ascii=False).encode("utf-8", "backslashreplace")
        for p in report["shared_files"]
    )
    yield from _json_list(b"shared_files", shared, FragmentSink(), last=False)
    yield from _json_table(b"messages", messages, sink)
    yield sink.emit(b"}\n")


def provenance_json_chunks(entries, sink: FragmentSink, shapes):
    """provenance.json as bytes; ``shapes`` (key -> JSON text) is called after the
    entries."""
    yield sink.emit(b'{\n  "report_version": %d,\n' % REPORT_VERSION)
    yield from _json_list(b"processes", entries, sink, last=False)
    yield from _json_table(b"shapes", shapes, sink, encoded=True)
    yield sink.emit(b"}\n")


def _json_table(key: bytes, table, sink: FragmentSink, encoded: bool = False):
    """``"key": {`` one ``"k": value`` per line ``}`` (the last member)."""
    items = sorted(table().items())
    if not items:
        yield sink.emit(b'  "' + key + b'": {}\n')
        return
    lines = []
    for k, v in items:
        value = v if encoded else json.dumps(v, ensure_ascii=False)
        lines.append(f"    {json.dumps(k)}: {value}")
    yield sink.emit(
        b'  "'
        + key
        + b'": {\n'
        + ",\n".join(lines).encode("utf-8", "backslashreplace")
        + b"\n  }\n"
    )


def _json_list(key: bytes, items, sink: FragmentSink, last: bool):
    end = b"\n" if last else b",\n"
    previous = None
    opened = False
    for item in items:
        if not opened:
            yield sink.emit(b'  "' + key + b'": [\n')
            opened = True
        if previous is not None:
            yield sink.fragment(b"    ", previous, b",\n")
        previous = item
    if not opened:
        yield sink.emit(b'  "' + key + b'": []' + end)
        return
    yield sink.fragment(b"    ", previous, b"\n")
    yield sink.emit(b"  ]" + end)


# -- the estate, by kind of difference ----------------------------------------------------


@dataclass
class KindGroup:
    """Findings of one kind across the estate (see difference_kind)."""

    severity: str
    field: str
    wording: str
    findings: int = 0
    processes: list[str] | None = None

    @property
    def in_tasks(self) -> bool:
        return self.field.startswith("task_definitions[]")

    def where(self) -> str:
        n = len(self.processes or ())
        places = "process" if n == 1 else "processes"
        if self.in_tasks:
            tasks = "task" if self.findings == 1 else "tasks"
            return f"{self.findings} {tasks} in {n} {places}"
        if self.findings != n:
            return f"{self.findings} findings in {n} {places}"
        return f"{n} {places}"


def group_kinds(kinds_by_process: dict[str, tuple]) -> list[KindGroup]:
    """``kinds_by_process``: process -> ((severity, field kind, wording, count), ...).
    Most pressing first: manual, unsupported, approximated; then the most widespread."""
    groups: dict[tuple[str, str, str], KindGroup] = {}
    for name in sorted(kinds_by_process):
        for severity, field, wording, count in kinds_by_process[name]:
            group = groups.get((severity, field, wording))
            if group is None:
                group = groups[(severity, field, wording)] = KindGroup(
                    severity, field, wording, 0, []
                )
            group.findings += count
            group.processes.append(name)
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    return sorted(
        groups.values(),
        key=lambda g: (order[g.severity], -g.findings, g.field, g.wording),
    )


def kind_counts(findings, task_names) -> tuple[tuple[str, str, str, int], ...]:
    """The process's findings that are not exact, counted by kind."""
    counts = Counter(
        difference_kind(f, task_names) for f in findings if f.severity != "exact"
    )
    return tuple((*k, n) for k, n in sorted(counts.items()))


def exact_counts(findings, task_names) -> tuple[tuple[str, int], ...]:
    counts = Counter(
        field_kind(f.field, task_names) for f in findings if f.severity == "exact"
    )
    return tuple(sorted(counts.items()))


# Below this many things to create, every one is listed; above, they are counted by kind
# (each process's page and parity.json's to_create list them all).
LIST_ALL_TO_CREATE = 200


def create_groups(to_create) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What to create in Airflow, once each: (kind, wording, [(id, purpose)...])."""
    seen = set()
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind, ident, purpose in to_create:
        if (kind, ident) in seen:
            continue
        seen.add((kind, ident))
        groups.setdefault((kind, template(purpose)), []).append((ident, purpose))
    return [(k, w, items) for (k, w), items in sorted(groups.items())]


def parity_markdown(
    report: dict, rows: list, kinds: list[KindGroup], html_index: str | None
) -> str:
    """parity.md: the estate for people who read Markdown.  ``rows``: per process
    (summary, page); every process's own findings are on its page and in parity.json."""
    processes = [summary_ for summary_, _ in rows]
    lines = _markdown_head(report, processes, html_index)
    manual = [g for g in kinds if g.severity == "manual"]
    if manual:
        lines += [
            "## Do by hand before enabling the DAGs",
            "",
            "| field | what to do | where |",
            "|---|---|---|",
        ]
        lines += [
            f"| {_code(g.field)} | {_md(g.wording)} | {_md(_where(g))} |"
            for g in manual
        ]
        lines.append("")
    lines += [
        "## Differences by kind",
        "",
        "Across the estate; what varies between findings of one kind (names, numbers) "
        "is shown as …. Each process's page lists its own.",
        "",
    ]
    if not kinds:
        lines += ["Every field of every process maps exactly.", ""]
    else:
        lines += ["| severity | field | what differs | where |", "|---|---|---|---|"]
        lines += [
            f"| {g.severity} | {_code(g.field)} | {_md(g.wording)} | {_md(_where(g))} |"
            for g in kinds
        ]
        lines.append("")
    lines += [
        "## Processes",
        "",
        "| process | DAG | worst | exact | approximated | unsupported | manual |",
        "|---|---|---|---|---|---|---|",
    ]
    for p, page in rows:
        name = (
            f"[{_md(p.process)}](<{quote(page.removeprefix('report/'))}>)"
            if page
            else _md(p.process)
        )
        lines.append(
            f"| {name} | [{_code(p.dag_id)}](<{quote('../' + p.file)}>) | {p.worst} | "
            + " | ".join(map(str, p.counts))
            + " |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def _where(g: KindGroup, limit: int = 8) -> str:
    names = g.processes or []
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{g.where()}: {shown}{more}"


def _markdown_head(
    report: dict, processes: list[ProcessSummary], html_index: str | None
) -> list[str]:
    s = report["summary"]
    lines = [
        "# Sundial → Airflow parity report",
        "",
        f"Cron schedules evaluated in time zone **{report['timezone']}**.",
        "",
        f"Written for **Airflow {report['airflow']['version']}** (the DAGs, plugins, "
        f"requirements.txt and Dockerfile; proven on {report['airflow']['proven_on']}).",
        "",
        f"- Processes converted: **{s['processes_converted']}**",
        f"- Invalid definitions skipped: **{s['definitions_invalid']}**",
        "- Findings: " + ", ".join(f"{k} {v}" for k, v in s["findings"].items()),
        "- Processes by their worst finding: "
        + ", ".join(f"{k} {v}" for k, v in s["processes_by_worst_finding"].items()),
        "",
        "Severities: **exact** (same behaviour), **approximated** (differs as described),",
        "**unsupported** (not carried over), **manual** (needs an action from you).",
        "",
    ]
    if html_index:
        lines += [
            f"The HTML report, [{html_index}]({html_index}), has a page per process: "
            "Sundial's graph and the DAG's side by side, the schedule and every finding.",
            "",
        ]
    if report["invalid"]:
        lines += ["## Invalid definitions (not converted)", ""]
        for p in report["invalid"]:
            lines.append(f"- {_md(Problem(**p))}")
        lines.append("")
    to_create = [c for p in processes for c in p.to_create]
    if to_create:
        lines += ["## Create in Airflow before enabling the DAGs", ""]
        groups = create_groups(to_create)
        if sum(len(items) for _, _, items in groups) <= LIST_ALL_TO_CREATE:
            lines += ["| kind | id | purpose |", "|---|---|---|"]
            for kind, _, items in groups:
                for ident, purpose in items:
                    lines.append(f"| {kind} | {_code(ident)} | {_md(purpose)} |")
        else:
            lines += [
                "Counted by kind (parity.json's `to_create` and each process's page "
                "list every one):",
                "",
                "| kind | purpose | how many | for example |",
                "|---|---|---|---|",
            ]
            for kind, wording, items in groups:
                lines.append(
                    f"| {kind} | {_md(wording)} | {len(items)} | {_code(items[0][0])} |"
                )
        lines.append("")
    if report["shared_files"]:
        lines += [
            "## Files shared by processes, with different contents",
            "",
            "Sundial named Batch job definitions after the task alone; these files hold "
            "one process's version (each run registers its own, as Sundial's did).",
            "",
            "| file | versions | written from | processes |",
            "|---|---|---|---|",
        ]
        for entry in report["shared_files"]:
            lines.append(
                f"| {_code(entry['file'])} | {entry['versions']} | "
                f"{_md(entry['written_from'])} | "
                + ", ".join(_md(n) for n in entry["processes"])
                + " |"
            )
        lines.append("")
    return lines


def dag_provenance(m: DagModel) -> dict:
    """Fields and rule of every DAG argument, and of the names bound before the DAG."""
    return {
        k: a.provenance.as_dict()
        for k, a in (*m.arguments.items(), *m.bindings.items())
    }


def provenance_entry(m: DagModel) -> dict:
    """Which Sundial fields and which rule produced every DAG and task argument."""
    return {
        "process": m.process,
        "dag_id": m.dag_id,
        "dag": dag_provenance(m),
        "tasks": {
            n.task_id: {
                "sundial_task": n.sundial_task,
                "operator": f"{n.operator.module}.{n.operator.name}",
                "arguments": {
                    k: a.provenance.as_dict() for k, a in n.arguments.items()
                },
            }
            for n in m.tasks
        },
    }


# what can start Markdown or HTML markup (links, images, tags, entities, emphasis, code,
# strikethrough, headings) or end a table cell; a backslash makes each one literal
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!#])")


def _md(text: object) -> str:
    """A value as literal Markdown text in a table cell or a list item: markup
    characters backslash-escaped, control characters shown as escapes, one line."""
    return _MD_SPECIAL.sub(r"\\\1", printable(str(text)).replace("\n", " "))


def _code(text: object) -> str:
    """A value as a Markdown code span (literal by nature): fenced by more backticks
    than it holds in a row, its ``|`` escaped for the table (GFM reads ``\\|`` as ``|``
    in a code span too), control characters shown as escapes, one line."""
    value = printable(str(text)).replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    )
    return f"{fence}{pad}{value}{pad}{fence}"


# -- reading a report ---------------------------------------------------------------------


def read_parity(path: Path | str) -> dict:
    """parity.json with every finding's message in place (version 2 names long ones by
    key): each process's ``findings`` is then a list of {"severity", "field",
    "message"}, as in version 1, of every finding that is not exact."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    messages = data.get("messages", {})
    for entry in data.get("processes", []):
        entry["findings"] = [
            (
                {
                    "severity": f["severity"],
                    "field": f["field"],
                    "message": messages[f["see"]],
                }
                if "see" in f
                else f
            )
            for f in entry.get("findings", [])
        ]
    return data


def read_provenance(path: Path | str) -> dict:
    """provenance.json in version 1's layout: per process, ``dag`` and ``tasks`` (task id
    -> sundial_task, operator, arguments: fields and rule each)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("report_version", 1) < 2:
        return data
    shapes = {k: v for k, v in data.get("shapes", {}).items()}
    processes = []
    for entry in data["processes"]:
        tasks = {}
        owned = [
            (task_id, sundial, key)
            for sundial, ids in entry["tasks"].items()
            for task_id, key in ids.items()
        ]
        owned += [(task_id, None, key) for task_id, key in entry["structural"].items()]
        for task_id, sundial, key in owned:
            shape = shapes[key]
            own = task_path(sundial) if sundial is not None else ""
            tasks[task_id] = {
                "sundial_task": sundial,
                "operator": shape["operator"],
                "arguments": {
                    name: {
                        "fields": [
                            own + f[1:] if f.startswith("@") else f
                            for f in arg["fields"]
                        ],
                        "rule": arg["rule"],
                    }
                    for name, arg in shape["arguments"].items()
                },
            }
        processes.append(
            {
                "process": entry["process"],
                "dag_id": entry["dag_id"],
                "dag": shapes[entry["dag"]]["arguments"],
                "tasks": tasks,
            }
        )
    return {"processes": processes}
