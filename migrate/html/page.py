"""One process's page: both graphs side by side, its tasks, the schedule next to the
DAG's timetable, what to do before enabling it, and every finding.

A page is planned while its unit is built (``plan_page``: everything from the models) and
rendered once the estate is known (``render_page``): the findings that depend on other
processes (a job definition file shared with them) and the graph layouts (one ``dot`` run
for many pages) come last.  Every Sundial string goes through ``text()``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from migrate.html import layout as layouts
from migrate.html.graphs import (
    EXECUTOR_LABELS,
    Graph,
    airflow_graph,
    align,
    sundial_graph,
    svg,
    task_findings,
    worst,
)
from migrate.html.text import encode_page, name, text
from migrate.ir import SEVERITIES, Call, DagModel, Finding, Seconds
from migrate.report import TaskFields, split_field
from migrate.schedule.choose import CRON, QUARTZ, choose_schedule
from migrate.schedule.verify import PROOF_START
from migrate.sundial.model import ContinuousSchedule, CronSchedule, ProcessDefinition

PAGE_DIR = "report/processes"
STYLESHEET = "report/assets/report.css"
SEVERITY_WORDS = {
    "exact": "same behaviour",
    "approximated": "differs as described",
    "unsupported": "not carried over",
    "manual": "needs an action from you",
}


def page_path(dag_id: str) -> str:
    return f"{PAGE_DIR}/{dag_id}.html"


def executors(process: ProcessDefinition) -> tuple[str, ...]:
    return tuple(
        sorted({EXECUTOR_LABELS.get(type(t.executable), "?") for t in process.tasks})
    )


@dataclass
class PagePlan:
    """A page before the estate-wide findings and the layouts are known: its markup so
    far, compressed (a worker holds the plans of every page it built until the estate
    is known), and its two graphs."""

    path: str
    process: str
    dag_id: str
    counts: tuple[int, ...]  # its own findings per severity
    graphs: tuple[Graph, Graph]
    parts: bytes  # zlib: title block, tasks + schedule, before, notable rows, exact
    task_names: tuple[str, ...]

    def specs(self):
        return [g.spec() for g in self.graphs]


_SEP = "\x00"  # never in markup: text() shows a NUL as a picture


def plan_page(
    process: ProcessDefinition,
    model: DagModel,
    tz: str,
    names: TaskFields | None = None,
) -> PagePlan:
    """Everything a page needs from the models (call before the code model is released).
    ``names``: the process's TaskFields, when the caller splits the same fields too."""
    if names is None:
        names = TaskFields.of(process)
    findings = list(model.findings)
    by_task = task_findings(findings, names)
    graphs = align(sundial_graph(process, by_task), airflow_graph(model, by_task))
    path = page_path(model.dag_id)
    dag_link = "../../" + model.file
    facts = [
        ("DAG", f'<a href="{text(dag_link)}"><code>{text(model.dag_id)}</code></a>'),
        ("Executors", text(", ".join(executors(process)) or "none")),
        ("API generations", text(", ".join(model.generations))),
        (
            "Paused when created",
            "yes" if process.paused else "no",
        ),
        ("Overlap", text(process.overlap_action)),
    ]
    title = ['<dl class="facts">']
    for label, value in facts:
        title.append(f"<dt>{label}</dt><dd>{value}</dd>")
    title.append("</dl>")
    if process.description:
        title.append(f'<p class="description">{text(process.description)}</p>')
    sections = _tasks_section(process, model, by_task) + _schedule_section(
        process, model, tz
    )
    counts = tuple(sum(1 for f in findings if f.severity == s) for s in SEVERITIES)
    parts = [
        "".join(title),
        sections,
        _before_section(list(model.to_create), findings),
        _notable_rows(findings, names),
        _exact_block(findings, names),
    ]
    assert not any(_SEP in part for part in parts)
    return PagePlan(
        path=path,
        process=process.name,
        dag_id=model.dag_id,
        counts=counts,
        graphs=graphs,
        parts=zlib.compress(encode_page(_SEP.join(parts)), 1),
        task_names=names.names,
    )


def render_page(plan: PagePlan, trailing, pictures) -> str:
    """The page, with the findings known only once the estate is built (``trailing``:
    they go at the end of the table of differences) and the layouts of its two graphs
    (``pictures``: Layout or None each)."""
    title, sections, before, rows, exact = (
        zlib.decompress(plan.parts).decode("utf-8").split(_SEP)
    )
    trailing = list(trailing)
    counts = dict(zip(SEVERITIES, plan.counts))
    for f in trailing:
        counts[f.severity] += 1
    worst_one = worst(s for s in SEVERITIES if counts[s]) or "exact"
    rows += _notable_rows(trailing, plan.task_names)
    findings = ['<section id="findings"><h2>What differs</h2>']
    if not rows:
        findings.append("<p>Every field maps exactly.</p>")
    else:
        findings.append(
            '<table class="findings"><thead><tr><th>severity</th><th>task</th>'
            "<th>field</th><th>what differs</th></tr></thead><tbody>"
            + rows
            + "</tbody></table>"
        )
    findings.append(exact + "</section>")
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nothing but the stylesheet beside the report may load; no script may run
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'self'; img-src 'self' data:; script-src 'none'\">",
        f"<title>{text(plan.process)} — Sundial → Airflow</title>",
        '<link rel="stylesheet" href="../assets/report.css">',
        "</head><body>",
        '<nav><a href="../index.html">← the estate</a></nav>',
        f'<header><h1>{name(plan.process)} <span class="badge sev-{worst_one}">'
        f"{worst_one}</span></h1>",
        title,
        '<p class="counts">'
        + " ".join(
            f'<span class="badge sev-{s}">{counts[s]} {s}</span>' for s in SEVERITIES
        )
        + "</p></header>",
        _graphs_section(plan, pictures),
        sections,
        before,
        "".join(findings),
        "</body></html>",
    ]
    return "\n".join(out) + "\n"


# -- sections ---------------------------------------------------------------------------


def _graphs_section(plan: PagePlan, pictures) -> str:
    out = ['<section id="graphs"><h2>Graphs</h2><div class="pair">']
    titles = (
        "Sundial",
        f"Airflow DAG <code>{name(plan.dag_id)}</code>",
    )
    labels = (
        f"Sundial process {plan.process}",
        f"Airflow DAG {plan.dag_id}",
    )
    for i, (graph, picture) in enumerate(zip(plan.graphs, pictures)):
        out.append(f'<figure class="graph-box"><figcaption>{titles[i]}</figcaption>')
        if not graph.nodes:
            out.append("<p>No tasks.</p>")
        elif picture is None:
            out.append(
                '<p class="nopicture">No picture: Graphviz\'s <code>dot</code> was not '
                f"available when this report was written; {text(layouts.INSTALL_HINT)}. "
                "The tasks table below has every dependency.</p>"
            )
        else:
            out.append(svg(graph, picture, labels[i], f"arrow{i}"))
        out.append("</figure>")
    out.append("</div>")
    out.append(
        '<p class="legend">'
        + " ".join(f'<span class="badge sev-{s}">{s}</span>' for s in SEVERITIES)
        + ' <span class="badge sev-none">no Sundial field</span>'
        " — colour: the worst finding of the node's Sundial task. "
        "Solid arrow: runs only after the upstream succeeded (Sundial: required). "
        "Dashed arrow: runs once the upstream finished, whether it succeeded or failed "
        "(Sundial: optional; Airflow: a trigger rule other than all_success).</p>"
    )
    out.append("</section>")
    return "\n".join(out)


def _tasks_section(process: ProcessDefinition, model: DagModel, by_task) -> str:
    nodes: dict[str, list[str]] = {}
    for n in model.tasks:
        if n.sundial_task is not None:
            nodes.setdefault(n.sundial_task, []).append(n.task_id)
    rows = []
    for t in sorted(process.tasks, key=lambda t: t.name):
        required = sorted({d.task_name for d in t.dependencies if d.success_required})
        optional = sorted(
            {d.task_name for d in t.dependencies if not d.success_required}
            - set(required)
        )
        deps = []
        if required:
            deps.append("required: " + ", ".join(text(d) for d in required))
        if optional:
            deps.append("optional: " + ", ".join(text(d) for d in optional))
        severity = worst(f.severity for f in by_task.get(t.name, [])) or "exact"
        exit_id = model.task_map.get(t.name)
        ids = []
        for task_id in nodes.get(t.name, []):
            mark = " (its success is the task's)" if task_id == exit_id else ""
            ids.append(f"<code>{text(task_id)}</code>{mark}")
        rows.append(
            f'<tr><td class="name">{name(t.name)}</td>'
            f"<td>{text(EXECUTOR_LABELS.get(type(t.executable), '?'))}</td>"
            f"<td>{'<br>'.join(deps) or '—'}</td>"
            f"<td>{'<br>'.join(ids) or '—'}</td>"
            f'<td><span class="badge sev-{severity}">{severity}</span></td>'
            f"<td>{t.max_attempts}</td></tr>"
        )
    structural = [
        f"<code>{name(n.task_id)}</code> ({text(n.operator.name)})"
        for n in model.tasks
        if n.sundial_task is None
    ]
    extra = (
        f'<p>Tasks of the migration\'s own: {", ".join(structural)}.</p>'
        if structural
        else ""
    )
    return (
        '<section id="tasks"><h2>Tasks</h2><table><thead><tr><th>Sundial task</th>'
        "<th>executor</th><th>depends on</th><th>Airflow task ids</th>"
        "<th>worst finding</th><th>attempts</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + extra
        + "</section>\n"
    )


def _schedule_code(value) -> str:
    if value is None:
        return "None (runs only when triggered)"
    if isinstance(value, Seconds):
        return f"timedelta(seconds={value.seconds:g})"
    if isinstance(value, Call):  # as the DAG file has it, nested values too
        parts = [_schedule_code(a) for a in value.args]
        parts += [f"{k}={_schedule_code(v)}" for k, v in value.kwargs]
        return f"{value.func.name}({', '.join(parts)})"
    return repr(value)


def _when(instant: datetime | None, zone: ZoneInfo) -> str:
    if instant is None:
        return "—"
    return instant.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _schedule_section(process: ProcessDefinition, model: DagModel, tz: str) -> str:
    argument = model.arguments.get("schedule")
    airflow_value = argument.value if argument is not None else None
    airflow_code = f"<code>{text(_schedule_code(airflow_value))}</code>"
    schedule = process.schedule
    out = ['<section id="schedule"><h2>Schedule</h2>']
    if not isinstance(schedule, CronSchedule):
        if isinstance(schedule, ContinuousSchedule):
            sundial = (
                f"continuous: the next run {schedule.buffer_seconds or 0} s after the "
                "previous run's start"
            )
        else:
            sundial = "none: runs only when triggered"
        out.append(
            '<table class="schedule"><thead><tr><th>Sundial</th><th>Airflow DAG</th>'
            f"</tr></thead><tbody><tr><td>{text(sundial)}</td><td>{airflow_code}</td>"
            "</tr></tbody></table></section>\n"
        )
        return "".join(out)
    zone = ZoneInfo(tz)
    choice = choose_schedule(schedule, tz)
    func = airflow_value.func.name if isinstance(airflow_value, Call) else None
    matches = (choice.kind == CRON and func == "CronTriggerTimetable") or (
        choice.kind == QUARTZ and func == "QuartzTimetable"
    )
    quartz, airflow = choice.proof.first_fires
    if not matches:
        airflow = ()
    out.append(
        '<table class="schedule"><thead><tr><th></th><th>Sundial (Quartz engine)</th>'
        "<th>Airflow DAG's timetable</th></tr></thead><tbody>"
        f"<tr><th>definition</th><td><code>{text(schedule.quartz_expression())}</code> "
        f"in {text(tz)}</td><td>{airflow_code}</td></tr>"
    )
    for i in range(max(len(quartz), len(airflow))):
        q = quartz[i] if i < len(quartz) else None
        a = airflow[i] if i < len(airflow) else None
        cls = "" if q == a else ' class="differs"'
        label = f"run {i + 1} from {PROOF_START:%Y-%m-%d}" if i == 0 else f"run {i + 1}"
        out.append(
            f"<tr{cls}><th>{label}</th><td>{_when(q, zone)}</td>"
            f"<td>{_when(a, zone) if matches else 'not computed'}</td></tr>"
        )
    out.append("</tbody></table>")
    proof = choice.proof
    if not matches:
        out.append(
            "<p>The DAG's schedule is not the one the proof chose, so its fire times "
            "were not computed here: run <code>migrate diff</code>.</p>"
        )
    elif proof.exact:
        out.append(
            f"<p>Identical fire times: {proof.checked} compared ({text(proof.scope)}).</p>"
        )
    elif not proof.differences:
        out.append(
            f'<p class="differs">No fire time in the horizon ({text(proof.scope)}): '
            "nothing was compared, so nothing is proven.</p>"
        )
    else:
        out.append(
            f'<p class="differs">They differ at {len(proof.differences)} fire time(s) '
            f'({text(proof.scope)}):</p><table class="schedule"><thead><tr>'
            "<th>Sundial</th><th>Airflow</th></tr></thead><tbody>"
        )
        for q, a in proof.differences[:10]:
            out.append(f"<tr><td>{_when(q, zone)}</td><td>{_when(a, zone)}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>\n")
    return "".join(out)


def _before_section(to_create, findings: list[Finding]) -> str:
    manual = [f for f in findings if f.severity == "manual"]
    if not to_create and not manual:
        return (
            '<section id="before"><h2>Before you enable the DAG</h2>'
            "<p>Nothing to create or do.</p></section>"
        )
    out = ['<section id="before"><h2>Before you enable the DAG</h2>']
    if to_create:
        out.append(
            "<h3>Create in Airflow</h3><table><thead><tr><th>kind</th><th>id</th>"
            "<th>purpose</th></tr></thead><tbody>"
        )
        for kind, ident, purpose in to_create:
            out.append(
                f"<tr><td>{text(kind)}</td><td><code>{text(ident)}</code></td>"
                f"<td>{text(purpose)}</td></tr>"
            )
        out.append("</tbody></table>")
    if manual:
        out.append("<h3>Do by hand</h3><ul>")
        for f in manual:
            out.append(f"<li><code>{text(f.field)}</code>: {text(f.message)}</li>")
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def _notable_rows(findings: list[Finding], names) -> str:
    """Rows of the table of differences: manual first, then unsupported, approximated."""
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    out = []
    for f in sorted(
        (f for f in findings if f.severity != "exact"), key=lambda f: order[f.severity]
    ):
        task, rest = split_field(f.field, names)
        out.append(
            f'<tr><td class="sev-{f.severity}">{f.severity}</td>'
            f"<td>{'(process)' if task is None else name(task)}</td>"
            f"<td><code>{text(rest)}</code></td><td>{text(f.message)}</td></tr>"
        )
    return "".join(out)


def _exact_block(findings: list[Finding], names) -> str:
    exact = [f for f in findings if f.severity == "exact"]
    out = [
        f'<details id="exact"><summary>{len(exact)} field(s) map exactly: how each '
        "is carried over</summary>"
    ]
    if exact:
        out.append(
            '<table class="findings"><thead><tr><th>how</th><th>field(s)</th>'
            "<th>of</th></tr></thead><tbody>"
        )
        # the fields of a task carried over one way, then the tasks that share both
        per_task: dict[tuple[str | None, str], list[str]] = {}
        for f in exact:
            task, rest = split_field(f.field, names)
            per_task.setdefault((task, f.message), []).append(rest)
        shared: dict[tuple[str, tuple[str, ...]], list[str | None]] = {}
        for (task, message), fields in per_task.items():
            shared.setdefault((message, tuple(fields)), []).append(task)
        for (message, fields), tasks in shared.items():
            shown = ", ".join(f"<code>{text(x)}</code>" for x in fields)
            owners = ", ".join("the process" if t is None else name(t) for t in tasks)
            out.append(
                f"<tr><td>{text(message)}</td><td>{shown}</td><td>{owners}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</details>")
    return "".join(out)


def render_pages(items) -> list[bytes]:
    """Pages for ``items`` ((plan, trailing findings) each), their graphs laid out in a
    few ``dot`` runs."""
    specs = [spec for plan, _ in items for spec in plan.specs()]
    pictures = layouts.layout_many(specs)
    return [
        encode_page(render_page(plan, trailing, pictures[2 * i : 2 * i + 2]))
        for i, (plan, trailing) in enumerate(items)
    ]
