"""The two graphs of a process page, as data and as inline SVG.

Sundial's graph comes from the Sundial model (tasks and their dependencies: required drawn
solid, optional dashed); the Airflow DAG's graph from the intermediate model (DagModel:
tasks, edges), whatever operators the mappers chose: an edge into a task that
runs whatever its upstreams did (a trigger rule other than all_success) is dashed.  Nodes
are coloured by the worst finding of their Sundial task.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from migrate.html.layout import GraphSpec, Layout
from migrate.html.text import shorten, text
from migrate.ir import SEVERITIES, DagModel, Finding
from migrate.report import split_field
from migrate.sundial.model import (
    BatchCommand,
    DockerCommand,
    EmrCommand,
    ProcessDefinition,
    ShellCommand,
)

EXECUTOR_LABELS = {
    ShellCommand: "shell",
    BatchCommand: "batch",
    DockerCommand: "ecs",
    EmrCommand: "emr",
}

# fill, stroke per worst finding (None: a task of Airflow's own, no Sundial field)
COLOURS = {
    "exact": ("#e2f3e7", "#3d8b57"),
    "approximated": ("#fff0cc", "#b7791f"),
    "unsupported": ("#fbdcdc", "#c53030"),
    "manual": ("#e8e1fb", "#6b46c1"),
    None: ("#eef0f3", "#7b8794"),
}

NODE_HEIGHT = 34
CHAR_WIDTH = 6.3  # of the 11 px label font, generously
DETAIL_CHAR_WIDTH = 5.1  # of the 9 px second line
MAX_LABEL = 30  # characters shown in a node; the full text is its tooltip
MIN_WIDTH, MAX_WIDTH = 70, 210


@dataclass(frozen=True)
class Node:
    label: str
    detail: str  # second line: executor, operator
    title: str  # tooltip: everything about the node
    severity: str | None


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int, bool], ...]  # (from, to, optional)
    widths: tuple[int, ...] = ()  # node widths, when set by align(); else from labels
    origins: tuple[
        str | None, ...
    ] = ()  # each node's Sundial task (None: Airflow's own)

    def spec(self) -> GraphSpec:
        widths = self.widths or tuple(_width(n) for n in self.nodes)
        return GraphSpec(
            tuple((w, NODE_HEIGHT) for w in widths),
            tuple((a, b) for a, b, _ in self.edges),
        )


def align(sundial: Graph, airflow: Graph) -> tuple[Graph, Graph]:
    """When every Airflow task stands for one Sundial task (one task per Sundial task,
    no helper task), the Airflow graph's nodes in Sundial's order and both graphs with
    one width per task: side by side, the same task sits in the same place, and ``dot``
    lays the two out once when their edges agree."""
    names, origins = sundial.origins, airflow.origins
    if len(origins) != len(names) or set(origins) != set(names):
        return sundial, airflow
    position = {name: i for i, name in enumerate(names)}
    order = sorted(range(len(origins)), key=lambda i: position[origins[i]])
    moved = {old: new for new, old in enumerate(order)}
    nodes = tuple(airflow.nodes[i] for i in order)
    widths = tuple(
        max(_width(s), _width(a)) for s, a in zip(sundial.nodes, nodes, strict=True)
    )
    edges = tuple(sorted((moved[a], moved[b], opt) for a, b, opt in airflow.edges))
    return (
        replace(sundial, widths=widths),
        Graph(nodes, edges, widths, tuple(origins[i] for i in order)),
    )


def _width(node: Node) -> int:
    text_width = max(
        len(shorten(node.label, MAX_LABEL)) * CHAR_WIDTH,
        len(node.detail) * DETAIL_CHAR_WIDTH,
    )
    width = min(MAX_WIDTH, max(MIN_WIDTH, int(text_width) + 16))
    return -(-width // 10) * 10  # whole tens: fewer distinct graphs to lay out


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def worst(severities) -> str | None:
    found = max((_RANK[s] for s in severities), default=None)
    return None if found is None else SEVERITIES[found]


def task_findings(
    findings: list[Finding], task_names
) -> dict[str | None, list[Finding]]:
    """Findings by the Sundial task whose fields they are about (None: the process)."""
    out: dict[str | None, list[Finding]] = {name: [] for name in task_names}
    out[None] = []
    for finding in findings:
        out[split_field(finding.field, task_names)[0]].append(finding)
    return out


def sundial_graph(process: ProcessDefinition, by_task: dict) -> Graph:
    tasks = sorted(process.tasks, key=lambda t: t.name)
    index = {t.name: i for i, t in enumerate(tasks)}
    nodes = []
    for t in tasks:
        kind = EXECUTOR_LABELS.get(type(t.executable), "?")
        severity = worst(f.severity for f in by_task.get(t.name, []))
        nodes.append(
            Node(
                t.name,
                kind,
                f"Sundial task {t.name} ({kind})",
                severity,
            )
        )
    edges: dict[tuple[int, int], bool] = {}
    for t in tasks:
        for d in t.dependencies:
            if d.task_name not in index:
                continue
            key = (index[d.task_name], index[t.name])
            edges[key] = edges.get(key, True) and not d.success_required
    return Graph(
        tuple(nodes),
        tuple((a, b, opt) for (a, b), opt in sorted(edges.items())),
        origins=tuple(t.name for t in tasks),
    )


def _trigger_rule(model: DagModel, node) -> str:
    argument = node.arguments.get("trigger_rule")
    if argument is not None:
        return str(argument.value).lower()
    default_args = model.arguments.get("default_args")
    if default_args is not None and isinstance(default_args.value, dict):
        value = default_args.value.get("trigger_rule")
        if value is not None:
            return str(value).lower()
    return "all_success"


def airflow_graph(model: DagModel, by_task: dict) -> Graph:
    """The DAG as Airflow has it: its tasks and edges."""
    index = {n.task_id: i for i, n in enumerate(model.tasks)}
    edges_in = [
        (index[a], index[b]) for a, b in model.edges if a in index and b in index
    ]
    nodes = []
    rules = []
    for t in model.tasks:
        severity = (
            worst(f.severity for f in by_task.get(t.sundial_task, []))
            if t.sundial_task is not None
            else None
        )
        rule = _trigger_rule(model, t)
        rules.append(rule)
        origin = (
            f"Sundial task {t.sundial_task}"
            if t.sundial_task is not None
            else "added by the migration"
        )
        nodes.append(
            Node(
                t.task_id,
                t.operator.name,
                f"{t.task_id}: {t.operator.name}, trigger rule {rule}; {origin}",
                severity,
            )
        )
    edges = sorted((a, b, rules[b] != "all_success") for a, b in edges_in)
    return Graph(
        tuple(nodes), tuple(edges), origins=tuple(t.sundial_task for t in model.tasks)
    )


def svg(graph: Graph, layout: Layout, label: str, ident: str) -> str:
    """The graph as inline SVG: every string goes through text().  Shared attributes sit
    on groups (thousands of pages)."""
    pad = 4
    w, h = layout.width + 2 * pad, layout.height + 2 * pad
    out = [
        f'<svg class="graph" viewBox="{-pad} {-pad} {_n(w)} {_n(h)}" '
        f'width="{_n(w)}" height="{_n(h)}" role="img" aria-label="{text(label)}" '
        'font-family="system-ui, sans-serif" font-size="11" fill="#1f2933">'
        f'<defs><marker id="{ident}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0L10,5L0,10z" fill="#52606d"/></marker></defs>'
    ]
    solid, dashed = [], []
    for (_, _, optional), (path, arrow) in zip(graph.edges, layout.edges):
        d = f'<path d="{path}L{_n(arrow[2])},{_n(arrow[3])}"/>'
        (dashed if optional else solid).append(d)
    out.append(
        '<g class="edges" fill="none" stroke="#52606d" stroke-width="1.2" '
        f'marker-end="url(#{ident})">' + "".join(solid)
    )
    if dashed:
        out.append('<g class="opt" stroke-dasharray="5 3">' + "".join(dashed) + "</g>")
    out.append("</g>")
    sizes = graph.spec().sizes
    boxes: dict[str | None, list[str]] = {}
    for node, (cx, cy), (nw, nh) in zip(graph.nodes, layout.centers, sizes):
        boxes.setdefault(node.severity, []).append(
            f'<rect x="{_n(cx - nw / 2)}" y="{_n(cy - nh / 2)}" width="{nw}" '
            f'height="{nh}" rx="4"><title>{text(node.title)}</title></rect>'
        )
    out.append('<g class="nodes">')
    for severity in (*SEVERITIES, None):
        if severity in boxes:
            fill, stroke = COLOURS[severity]
            out.append(
                f'<g class="sev-{severity or "none"}" fill="{fill}" stroke="{stroke}">'
                + "".join(boxes[severity])
                + "</g>"
            )
    out.append('</g><g class="labels" text-anchor="middle">')
    for node, (cx, cy) in zip(graph.nodes, layout.centers):
        out.append(
            f'<text x="{_n(cx)}" y="{_n(cy - 3)}">{text(shorten(node.label, MAX_LABEL))}</text>'
        )
    out.append('<g font-size="9" fill="#52606d">')
    for node, (cx, cy) in zip(graph.nodes, layout.centers):
        out.append(f'<text x="{_n(cx)}" y="{_n(cy + 10)}">{text(node.detail)}</text>')
    out.append("</g></g></svg>")
    return "".join(out)


def _n(v: float) -> str:
    return str(round(v))
