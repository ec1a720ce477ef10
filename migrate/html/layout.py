"""Graph layout by Graphviz's ``dot``: many graphs per ``dot`` process.

``dot`` (Debian/Ubuntu: ``apt-get install graphviz``; macOS: ``brew install graphviz``)
lays out directed graphs in ranks with few crossings and routes edges as splines.
Starting one ``dot`` per graph costs ~10 ms, so
graphs are laid out in batches: one ``dot`` reads a batch of graphs and writes the layout
of each (~0.5 ms a graph).

``dot`` never sees a Sundial string: a graph is handed over as node sizes and edges only
(nodes are ``n0``, ``n1``...; labels are drawn by migrate/html/graphs.py),
so nothing in a name can reach ``dot``'s parser, and the layout does not depend on the
fonts installed (sizes are fixed).  Identical graphs (an estate repeats a few shapes many
times) are laid out once per process.

Without ``dot`` (or with ``SUNDIAL_MIGRATE_DOT=none``) layouts are None and the pages say
how to get the pictures.  ``SUNDIAL_MIGRATE_DOT=/path/to/dot`` picks a ``dot``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

DOT_ENV = "SUNDIAL_MIGRATE_DOT"
INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
    "graphviz) and convert again"
)
BATCH = 400  # graphs per dot process
TIMEOUT_S = 120


@dataclass(frozen=True)
class GraphSpec:
    """What ``dot`` lays out: node sizes (points), edges (node indices)."""

    sizes: tuple[tuple[int, int], ...]
    edges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Layout:
    """Positions in SVG coordinates (points, y downwards)."""

    width: float
    height: float
    centers: tuple[tuple[float, float], ...]  # per node
    edges: tuple[tuple[str, tuple[float, float, float, float]], ...]
    # per edge: SVG path data, and the arrow (from x, y to tip x, y)


def find_dot() -> str | None:
    chosen = os.environ.get(DOT_ENV)
    if chosen is not None:
        if chosen.strip().lower() in ("", "none"):
            return None
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("dot")


@lru_cache(maxsize=8)
def _version(dot: str | None) -> str:
    if dot is None:
        return "none"
    try:
        done = subprocess.run(
            [dot, "-V"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return "none"
    text = (done.stderr or done.stdout).strip()
    return text.splitlines()[0] if done.returncode == 0 and text else "none"


def dot_version() -> str:
    """``dot -V``'s line, or "none": part of the convert cache's fingerprint (pages with
    and without pictures, or from another dot, differ)."""
    return _version(find_dot())


def available() -> bool:
    return dot_version() != "none"


def dot_source(spec: GraphSpec, name: str = "g") -> str:
    lines = [
        f"digraph {name} {{",
        "graph [rankdir=TB, nodesep=0.3, ranksep=0.42, margin=0];",
        'node [shape=box, fixedsize=true, label=""];',
        "edge [arrowsize=0.7];",
    ]
    for i, (w, h) in enumerate(spec.sizes):
        lines.append(f"n{i} [width={w / 72:.4f}, height={h / 72:.4f}];")
    for a, b in spec.edges:
        lines.append(f"n{a} -> n{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MEMO: dict[GraphSpec, Layout | None] = {}
_MEMO_MAX = 20_000


def layout_many(specs: list[GraphSpec]) -> list[Layout | None]:
    """The layout of each graph (None for every graph without ``dot``, or for a graph
    ``dot`` could not lay out)."""
    dot = find_dot()
    if dot is None or dot_version() == "none":
        return [None] * len(specs)
    todo = [s for s in dict.fromkeys(specs) if s not in _MEMO and s.sizes]
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        try:
            results = _run(dot, chunk)
        except (OSError, ValueError, subprocess.SubprocessError):
            results = []
            for spec in chunk:  # one graph dot rejects must not cost the others
                try:
                    results += _run(dot, [spec])
                except (OSError, ValueError, subprocess.SubprocessError):
                    results.append(None)
        if len(_MEMO) + len(chunk) > _MEMO_MAX:
            _MEMO.clear()
        _MEMO.update(zip(chunk, results))
    return [_MEMO.get(s) if s.sizes else _EMPTY for s in specs]


_EMPTY = Layout(0.0, 0.0, (), ())


def _run(dot: str, specs: list[GraphSpec]) -> list[Layout | None]:
    """Lay out ``specs`` in one ``dot`` run.  ``-Tplain``: one line per graph, node and
    edge, in inches with y upwards, each graph closed by ``stop`` (the cheapest of
    dot's outputs to write and to read)."""
    source = "".join(dot_source(s, f"g{i}") for i, s in enumerate(specs))
    done = subprocess.run(
        [dot, "-Tplain"],
        input=source.encode("ascii"),
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(done.stderr.decode("utf-8", "replace")[-500:])
    graphs = done.stdout.decode("ascii").split("\nstop\n")
    if len(graphs) != len(specs) + 1 or graphs[-1].strip():
        raise ValueError(f"dot wrote {len(graphs) - 1} layouts for {len(specs)} graphs")
    return [_parse(text, spec) for text, spec in zip(graphs, specs)]


ARROW = 7.0  # points from an edge's end to its arrow's tip: dot's 10 x arrowsize 0.7


def _parse(text: str, spec: GraphSpec) -> Layout:
    lines = text.strip("\n").split("\n")
    _, scale, width, height = lines[0].split()
    unit = 72.0 * float(scale)
    width, height = float(width) * unit, float(height) * unit

    def point(x: str, y: str) -> tuple[float, float]:
        return (round(float(x) * unit, 1), round(height - float(y) * unit, 1))

    centers: list[tuple[float, float]] = [(0.0, 0.0)] * len(spec.sizes)
    routed = {}
    for line in lines[1:]:
        kind, rest = line.split(" ", 1)
        if kind == "node":
            name, x, y, _ = rest.split(" ", 3)
            centers[int(name[1:])] = point(x, y)
        elif kind == "edge":
            values = rest.split()
            tail, head, n = int(values[0][1:]), int(values[1][1:]), int(values[2])
            routed[(tail, head)] = _edge(
                [point(values[i], values[i + 1]) for i in range(3, 3 + 2 * n, 2)]
            )
    edges = [routed[key] for key in spec.edges]  # in the spec's order
    return Layout(round(width, 1), round(height, 1), tuple(centers), tuple(edges))


def _edge(points) -> tuple[str, tuple[float, float, float, float]]:
    """A dot spline (B-spline control points, ending where its arrow starts) as SVG path
    data and the arrow: from the spline's end, ARROW points on along its last segment.
    """
    parts = [f"M{_xy(points[0])}"]
    for i in range(1, len(points) - 2, 3):
        parts.append(f"C{_xy(points[i])} {_xy(points[i + 1])} {_xy(points[i + 2])}")
    last = points[-1]
    before = next((p for p in reversed(points[:-1]) if p != last), None)
    if before is None:
        tip = (last[0], last[1] + ARROW)  # a degenerate spline: point down the ranks
    else:
        dx, dy = last[0] - before[0], last[1] - before[1]
        length = (dx * dx + dy * dy) ** 0.5
        tip = (last[0] + dx / length * ARROW, last[1] + dy / length * ARROW)
    return "".join(parts), (last[0], last[1], round(tip[0], 1), round(tip[1], 1))


def _xy(p: tuple[float, float]) -> str:
    return f"{_num(p[0])},{_num(p[1])}"


def _num(v: float) -> str:
    return str(round(v))
