"""``report/index.html``: the estate at a glance.

Processes by their worst finding, findings by severity, what to do before enabling the
DAGs (what to create in Airflow, every manual action, by kind), the differences by kind
across the estate ("N tasks in M processes", each a filter), and every process in one
table that the page filters by name, worst finding, executor and kind of difference
(report/assets/index.js; the table is plain HTML, usable without it).

Built by the parent process from the small per-process summaries every run: at 10,000
processes it is a few MB that a browser opens in well under two seconds (measured by
bench/convert_bench.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from migrate.html import layout as layouts
from migrate.html.graphs import COLOURS
from migrate.html.text import name, text, visible
from migrate.ir import SEVERITIES
from migrate.report import LIST_ALL_TO_CREATE, KindGroup, create_groups

INDEX = "report/index.html"
EXECUTORS = ("batch", "ecs", "emr", "shell")


@dataclass(frozen=True)
class Row:
    process: str
    dag_id: str
    file: str  # relative to the output directory
    page: str | None
    counts: tuple[int, ...]
    worst: str
    executors: tuple[str, ...]
    tasks: int
    kinds: tuple[int, ...] = ()  # indices into the estate's kind groups


def _bar(by_worst: dict[str, int]) -> str:
    """Processes by worst finding as one stacked bar (SVG: no inline styles needed)."""
    total = sum(by_worst.values()) or 1
    x = 0.0
    parts = []
    for s in SEVERITIES:
        w = 600 * by_worst.get(s, 0) / total
        if w:
            parts.append(
                f'<rect x="{x:.1f}" width="{w:.1f}" height="18" '
                f'fill="{COLOURS[s][0]}" stroke="{COLOURS[s][1]}"><title>{by_worst[s]} '
                f"{s}</title></rect>"
            )
        x += w
    return (
        '<svg class="bar" viewBox="0 0 600 18" width="600" height="18" role="img" '
        'aria-label="processes by worst finding">' + "".join(parts) + "</svg>"
    )


def render_index(
    report: dict,
    rows: list[Row],
    kinds: list[KindGroup],
    to_create: list[tuple[str, str, str]],
    pictures: bool,
) -> str:
    s = report["summary"]
    by_worst = s["processes_by_worst_finding"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'self'; img-src 'self' data:; script-src 'self'\">",
        "<title>Sundial → Airflow: the estate</title>",
        '<link rel="stylesheet" href="assets/report.css">',
        "</head><body>",
        "<header><h1>Sundial → Airflow: the estate</h1>",
        '<nav class="sections"><a href="#before">Before you enable the DAGs</a>'
        '<a href="#kinds">Differences by kind</a><a href="#processes">Processes</a>'
        "</nav>",
        f"<p>{s['processes_converted']} processes converted, "
        f"{s['definitions_invalid']} invalid definitions skipped; written for "
        f"<b>Airflow {text(report['airflow']['version'])}</b> (proven on "
        f"{text(report['airflow']['proven_on'])}); cron schedules "
        f"evaluated in <b>{text(report['timezone'])}</b>. Machine-readable: "
        '<a href="parity.json">parity.json</a>, <a href="provenance.json">'
        'provenance.json</a>; Markdown: <a href="parity.md">parity.md</a>.</p>',
        '<div class="glance"><div><h2>Processes by worst finding</h2>',
        _bar(by_worst),
        '<p class="counts">'
        + " ".join(
            f'<button type="button" class="badge sev-{k}" data-worst="{k}">'
            f"{by_worst.get(k, 0)} {k}</button>"
            for k in reversed(SEVERITIES)
        )
        + '</p></div><div><h2>Findings by severity</h2><p class="counts">'
        + " ".join(
            f'<span class="badge sev-{k}">{v} {k}</span>'
            for k, v in s["findings"].items()
        )
        + "</p></div></div>",
    ]
    if not pictures:
        out.append(
            '<p class="nopicture">The process pages have no graphs: Graphviz\'s '
            f"<code>dot</code> was not available; {text(layouts.INSTALL_HINT)}.</p>"
        )
    out.append("</header>")
    out.append(_before(kinds, to_create))
    out.append(_kinds(kinds))
    if report["invalid"]:
        out.append(_invalid(report["invalid"]))
    if report["shared_files"]:
        out.append(_shared(report["shared_files"]))
    out.append(_processes(rows))
    out.append('<script src="assets/index.js"></script>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _kind_button(i: int, g: KindGroup) -> str:
    return (
        f'<button type="button" class="kind" data-kind="{i}">{text(g.where())}</button>'
    )


def _before(kinds: list[KindGroup], to_create) -> str:
    out = ['<section id="before"><h2>Before you enable the DAGs</h2>']
    groups = create_groups(to_create)
    if groups:
        out.append("<h3>Create in Airflow</h3>")
        listed = sum(len(items) for _, _, items in groups) <= LIST_ALL_TO_CREATE
        if listed:
            out.append(
                "<table><thead><tr><th>kind</th><th>id</th><th>purpose</th></tr>"
                "</thead><tbody>"
            )
            for kind, _, items in groups:
                for ident, purpose in items:
                    out.append(
                        f"<tr><td>{text(kind)}</td><td><code>{text(ident)}</code></td>"
                        f"<td>{text(purpose)}</td></tr>"
                    )
        else:
            out.append(
                "<p>Counted by kind: each process's page, and parity.json's "
                "<code>to_create</code>, list every one.</p><table><thead><tr>"
                "<th>kind</th><th>purpose</th><th>how many</th><th>for example</th>"
                "</tr></thead><tbody>"
            )
            for kind, wording, items in groups:
                out.append(
                    f"<tr><td>{text(kind)}</td><td>{text(wording)}</td>"
                    f"<td>{len(items)}</td><td><code>{text(items[0][0])}</code></td></tr>"
                )
        out.append("</tbody></table>")
    manual = [(i, g) for i, g in enumerate(kinds) if g.severity == "manual"]
    if manual:
        out.append(
            "<h3>Do by hand</h3><table><thead><tr><th>field</th><th>what to do</th>"
            "<th>where</th></tr></thead><tbody>"
        )
        for i, g in manual:
            out.append(
                f"<tr><td><code>{text(g.field)}</code></td><td>{text(g.wording)}</td>"
                f"<td>{_kind_button(i, g)}</td></tr>"
            )
        out.append("</tbody></table>")
    if not groups and not manual:
        out.append("<p>Nothing to create or do.</p>")
    out.append("</section>")
    return "\n".join(out)


def _kinds(kinds: list[KindGroup]) -> str:
    out = [
        '<section id="kinds"><h2>Differences by kind</h2>',
        "<p>Findings that are not exact, grouped across the estate (what varies "
        "between findings of one kind, such as names and numbers, is shown as …). "
        "Choose one to list its processes.</p>",
    ]
    if not kinds:
        out.append("<p>Every field of every process maps exactly.</p></section>")
        return "\n".join(out)
    out.append(
        '<table class="findings"><thead><tr><th>severity</th><th>field</th>'
        "<th>what differs</th><th>where</th></tr></thead><tbody>"
    )
    for i, g in enumerate(kinds):
        out.append(
            f'<tr><td><span class="badge sev-{g.severity}">{g.severity}</span></td>'
            f"<td><code>{text(g.field)}</code></td><td>{text(g.wording)}</td>"
            f"<td>{_kind_button(i, g)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _invalid(invalid: list[dict]) -> str:
    out = [
        '<section id="invalid"><h2>Invalid definitions (not converted)</h2>',
        "<table><thead><tr><th>file</th><th>process</th><th>field</th>"
        "<th>what is wrong</th><th>what to do</th></tr></thead><tbody>",
    ]
    for p in invalid:
        out.append(
            "<tr>"
            + "".join(
                f"<td>{text(p.get(k) or '')}</td>"
                for k in ("file", "process", "field", "message", "hint")
            )
            + "</tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _shared(shared: list[dict]) -> str:
    out = [
        '<section id="shared"><h2>Files shared by processes, with different '
        "contents</h2><p>Sundial named Batch job definitions after the task alone; "
        "each file holds one process's version (each run registers its own, as "
        "Sundial's did).</p><table><thead><tr><th>file</th><th>versions</th>"
        "<th>written from</th><th>processes</th></tr></thead><tbody>",
    ]
    for e in shared:
        out.append(
            f"<tr><td><code>{text(e['file'])}</code></td><td>{e['versions']}</td>"
            f"<td>{text(e['written_from'])}</td>"
            f"<td>{', '.join(name(n) for n in e['processes'])}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _json_script(value) -> str:
    """JSON for a <script type="application/json"> element (data, never run): nothing
    in it can close the element or open a comment."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _processes(rows: list[Row]) -> str:
    """The table is drawn by assets/index.js from the rows as JSON (at 10,000 processes
    a static table takes seconds to lay out; the script draws what the filters leave,
    a few hundred rows at a time)."""
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    rows = sorted(rows, key=lambda r: (order.get(r.worst, 9), r.process))
    data = []
    for r in rows:
        item = [
            visible(r.process),  # drawn as text: control characters shown
            r.dag_id,
            SEVERITIES.index(r.worst),
            list(r.counts),
            " ".join(r.executors),
            r.tasks,
            list(r.kinds),
        ]
        page = r.page.removeprefix("report/") if r.page else ""
        file = "../" + r.file
        if page != f"processes/{r.dag_id}.html" or file != f"../dags/{r.dag_id}.py":
            item += [page, file]  # only when not the usual places
        data.append(item)
    out = [
        '<section id="processes"><h2>Processes</h2>',
        '<form class="filters" role="search">',
        '<label>Name <input type="search" id="q" placeholder="process or DAG id" '
        'autocomplete="off"></label>',
        "<fieldset><legend>Worst finding</legend>"
        + "".join(
            f'<label><input type="checkbox" name="worst" value="{s}" checked> {s}'
            "</label>"
            for s in reversed(SEVERITIES)
        )
        + "</fieldset>",
        '<label>Executor <select id="executor"><option value="">any</option>'
        + "".join(f'<option value="{e}">{e}</option>' for e in EXECUTORS)
        + "</select></label>",
        '<span id="kind-filter" hidden>Kind: <b id="kind-name"></b> '
        '<button type="button" id="kind-clear">show all kinds</button></span>',
        '<output id="shown" aria-live="polite">' f"{len(rows)} of {len(rows)}</output>",
        "</form>",
        '<table id="table"><thead><tr><th>process</th><th>DAG</th><th>worst</th>'
        + "".join(f"<th>{s}</th>" for s in SEVERITIES)
        + "<th>executors</th><th>tasks</th></tr></thead><tbody></tbody></table>",
        '<p><button type="button" id="more" hidden>show more</button></p>',
        "<noscript><p>The table needs JavaScript; parity.md lists every process, and "
        "each has its page in processes/.</p></noscript>",
        f'<script type="application/json" id="rows">{_json_script(data)}</script>',
        "</section>",
    ]
    return "\n".join(out)


ASSET_DIR = "report/assets"


def assets() -> dict[str, bytes]:
    """The stylesheet and the index's script, as written beside the report."""
    from importlib.resources import files

    folder = files("migrate.html") / "assets"
    return {
        f"{ASSET_DIR}/{name}": (folder / name).read_bytes()
        for name in ("report.css", "index.js")
    }
