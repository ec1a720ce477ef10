"""The parity report: a query over the intermediate model, as JSON (contract) and Markdown."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace

from migrate.ir import SEVERITIES, DagModel, Finding
from migrate.problems import Problem

REPORT_VERSION = 1


def process_entry(m: DagModel) -> dict:
    return {
        "process": m.process,
        "dag_id": m.dag_id,
        "file": m.file,
        "tasks": dict(m.task_map),
        "findings": [f.as_dict() for f in m.findings],
        "api_generations": list(m.generations),
        "to_create": [
            {"kind": kind, "id": ident, "purpose": purpose}
            for kind, ident, purpose in m.to_create
        ],
    }


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


def parity_entry_parts(m: DagModel) -> tuple[str, str]:
    """The process's line in parity.json, cut after its last finding, so findings known
    only once the whole estate is built can be put in between: head + tail is the line,
    head + ", " + more findings + tail (or head + more + tail when it has none) too."""
    entry = process_entry(m)
    findings = entry.pop("findings")
    generations = entry.pop("api_generations")
    to_create = entry.pop("to_create")
    head = json.dumps(entry, ensure_ascii=False)[:-1] + ', "findings": ['
    head += ", ".join(json.dumps(f, ensure_ascii=False) for f in findings)
    tail = (
        "], "
        + json.dumps(
            {"api_generations": generations, "to_create": to_create}, ensure_ascii=False
        )[1:]
    )
    return head, tail


def join_entry(head: bytes, tail: bytes, more: list[Finding]) -> bytes:
    if not more:
        return head + tail
    extra = ", ".join(json.dumps(f.as_dict(), ensure_ascii=False) for f in more)
    sep = b"" if head.endswith(b"[") else b", "
    return head + sep + extra.encode("utf-8", "backslashreplace") + tail


def provenance_json(m: DagModel) -> str:
    """The process's line in provenance.json."""
    return json.dumps(provenance_entry(m), ensure_ascii=False)


def notable_findings(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.severity, f.field, f.message) for f in findings if f.severity != "exact"]


def markdown_section(
    process: str, dag_id: str, notable: list[tuple[str, str, str]]
) -> str:
    """The process's section of parity.md: every finding that is not exact."""
    lines = [f"### {_md(process)} → `{dag_id}`", ""]
    if not notable:
        lines += ["Every field maps exactly.", ""]
    else:
        lines += ["| severity | field | what differs |", "|---|---|---|"]
        for severity, field_, message in notable:
            lines.append(f"| {severity} | `{_md(field_)}` | {_md(message)} |")
        lines.append("")
    return "\n".join(lines)


def with_findings(s: ProcessSummary, more: list[Finding]) -> ProcessSummary:
    counts = Counter(f.severity for f in more)
    return replace(
        s, counts=tuple(c + counts.get(k, 0) for c, k in zip(s.counts, SEVERITIES))
    )


def summary(processes: list[ProcessSummary], problems: list[Problem]) -> dict:
    counts = [sum(p.counts[i] for p in processes) for i in range(len(SEVERITIES))]
    worst = Counter(p.worst for p in processes)
    return {
        "processes_converted": len(processes),
        "definitions_invalid": len(problems),
        "findings": dict(zip(SEVERITIES, counts)),
        "processes_by_worst_finding": {s: worst.get(s, 0) for s in SEVERITIES},
    }


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


def parity_json_chunks(report: dict, entries, sink: FragmentSink):
    """parity.json as bytes: one line per process (its fragment) and per invalid entry."""
    yield sink.emit(
        b"{\n"
        + f'  "report_version": {json.dumps(report["report_version"])},\n'.encode()
        + f'  "timezone": {json.dumps(report["timezone"], ensure_ascii=False)},\n'.encode(
            "utf-8", "backslashreplace"
        )
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
    yield from _json_list(b"shared_files", shared, FragmentSink(), last=True)
    yield sink.emit(b"}\n")


def provenance_json_chunks(entries, sink: FragmentSink):
    yield sink.emit(b"{\n")
    yield from _json_list(b"processes", entries, sink, last=True)
    yield sink.emit(b"}\n")


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


def parity_markdown_chunks(
    report: dict, processes: list[ProcessSummary], sections, sink: FragmentSink
):
    """parity.md as bytes: summary, what to create, the table, then one section per
    process (its fragment)."""
    yield sink.emit(
        "".join(line + "\n" for line in _markdown_head(report, processes)).encode(
            "utf-8", "backslashreplace"
        )
    )
    for section in sections:
        yield sink.fragment(b"", section, b"\n")


def _markdown_head(report: dict, processes: list[ProcessSummary]) -> list[str]:
    s = report["summary"]
    lines = [
        "# Sundial → Airflow parity report",
        "",
        f"Cron schedules evaluated in time zone **{report['timezone']}**.",
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
    if report["invalid"]:
        lines += ["## Invalid definitions (not converted)", ""]
        for p in report["invalid"]:
            lines.append(f"- {_md(Problem(**p))}")
        lines.append("")
    to_create = [c for p in processes for c in p.to_create]
    if to_create:
        lines += [
            "## Create in Airflow before enabling the DAGs",
            "",
            "| kind | id | purpose |",
            "|---|---|---|",
        ]
        seen = set()
        for kind, ident, purpose in to_create:
            if (kind, ident) in seen:
                continue
            seen.add((kind, ident))
            lines.append(f"| {kind} | `{_md(ident)}` | {_md(purpose)} |")
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
                f"| `{_md(entry['file'])}` | {entry['versions']} | "
                f"{_md(entry['written_from'])} | "
                + ", ".join(_md(n) for n in entry["processes"])
                + " |"
            )
        lines.append("")
    lines += [
        "## Processes",
        "",
        "| process | DAG | exact | approximated | unsupported | manual |",
        "|---|---|---|---|---|---|",
    ]
    for p in processes:
        lines.append(
            f"| {_md(p.process)} | [`{p.dag_id}`]({'../' + p.file}) | "
            + " | ".join(map(str, p.counts))
            + " |"
        )
    lines.append("")
    return lines


def provenance_entry(m: DagModel) -> dict:
    """Which Sundial fields and which rule produced every DAG and task argument."""
    return {
        "process": m.process,
        "dag_id": m.dag_id,
        "dag": {
            **{k: a.provenance.as_dict() for k, a in m.arguments.items()},
            **{k: a.provenance.as_dict() for k, a in m.bindings.items()},
        },
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


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
