"""The parity report: a query over the intermediate model, as JSON (contract) and Markdown."""

from __future__ import annotations

import json
from collections import Counter

from migrate.ir import SEVERITIES, DagModel
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


class Report:
    """The parity report over the models, built per process on demand, so an estate of
    thousands of processes is never held as one big dictionary.  ``report["processes"]``
    is a fresh iterator each time; the other keys are small."""

    def __init__(self, models: list[DagModel], problems: list[Problem], timezone: str):
        self.models = models
        self._keys = {
            "report_version": REPORT_VERSION,
            "timezone": timezone,
            "summary": summary(models, problems),
            "invalid": [
                {
                    "file": p.file,
                    "process": p.process,
                    "field": p.field,
                    "message": p.message,
                    "hint": p.hint,
                }
                for p in problems
            ],
        }

    def __getitem__(self, key: str):
        if key == "processes":
            return (process_entry(m) for m in self.models)
        return self._keys[key]

    def json_lines(self):
        """parity.json, line by line: one line per process (diff-friendly, streamable)."""
        k = self._keys
        return iter_json_lines(
            [
                ("report_version", k["report_version"]),
                ("timezone", k["timezone"]),
                ("summary", k["summary"]),
                ("processes", self["processes"]),
                ("invalid", k["invalid"]),
            ]
        )


def summary(models: list[DagModel], problems: list[Problem]) -> dict:
    counts = Counter(f.severity for m in models for f in m.findings)
    worst = Counter(_worst(m) for m in models)
    return {
        "processes_converted": len(models),
        "definitions_invalid": len(problems),
        "findings": {s: counts.get(s, 0) for s in SEVERITIES},
        "processes_by_worst_finding": {s: worst.get(s, 0) for s in SEVERITIES},
    }


def _worst(model: DagModel) -> str:
    found = {f.severity for f in model.findings}
    for severity in reversed(SEVERITIES):
        if severity in found:
            return severity
    return "exact"


def provenance_entry(m: DagModel) -> dict:
    """Which Sundial fields and which rule produced every DAG and task argument."""
    return {
        "process": m.process,
        "dag_id": m.dag_id,
        "dag": {k: a.provenance.as_dict() for k, a in m.arguments.items()},
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


def provenance_lines(entries: list[str]):
    """provenance.json from per-process entries already encoded as JSON."""
    yield "{"
    yield '  "processes": ['
    for i, entry in enumerate(entries):
        yield "    " + entry + ("," if i < len(entries) - 1 else "")
    yield "  ]"
    yield "}"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parity_markdown_lines(report):
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
    to_create = [(p["process"], c) for p in report["processes"] for c in p["to_create"]]
    if to_create:
        lines += [
            "## Create in Airflow before enabling the DAGs",
            "",
            "| kind | id | purpose |",
            "|---|---|---|",
        ]
        seen = set()
        for _process, c in to_create:
            key = (c["kind"], c["id"])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"| {c['kind']} | `{_md(c['id'])}` | {_md(c['purpose'])} |")
        lines.append("")
    lines += [
        "## Processes",
        "",
        "| process | DAG | exact | approximated | unsupported | manual |",
        "|---|---|---|---|---|---|",
    ]
    for p in report["processes"]:
        c = Counter(f["severity"] for f in p["findings"])
        lines.append(
            f"| {_md(p['process'])} | [`{p['dag_id']}`]({'../' + p['file']}) | "
            + " | ".join(str(c.get(k, 0)) for k in SEVERITIES)
            + " |"
        )
    lines.append("")
    yield from lines
    lines = []
    for p in report["processes"]:
        yield from lines
        lines = []
        notable = [f for f in p["findings"] if f["severity"] != "exact"]
        lines += [f"### {_md(p['process'])} → `{p['dag_id']}`", ""]
        if not notable:
            lines += ["Every field maps exactly.", ""]
            continue
        lines += ["| severity | field | what differs |", "|---|---|---|"]
        for f in notable:
            lines.append(
                f"| {f['severity']} | `{_md(f['field'])}` | {_md(f['message'])} |"
            )
        lines.append("")
    yield from lines


def iter_json_lines(items):
    """A JSON object, one line per top-level scalar and per list item."""
    yield "{"
    for i, (key, value) in enumerate(items):
        sep = "," if i < len(items) - 1 else ""
        if isinstance(value, (list, tuple)) and not value:
            yield f"  {json.dumps(key)}: []{sep}"
        elif isinstance(value, (list, tuple)) or hasattr(value, "__next__"):
            yield f"  {json.dumps(key)}: ["
            previous = None
            for item in value:
                if previous is not None:
                    yield "    " + previous + ","
                previous = json.dumps(item, ensure_ascii=False)
            if previous is not None:
                yield "    " + previous
            yield f"  ]{sep}"
        else:
            yield f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{sep}"
    yield "}"
