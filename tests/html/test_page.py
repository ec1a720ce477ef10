"""Process pages and the index as markup: hostile strings from Sundial (hypothesis) come out
as text in the structure the builder wrote, never as tags, attributes or script; the
graphs' nodes and edges are the models'."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings

from migrate.convert import convert_estate
from migrate.html import layout
from migrate.html.graphs import airflow_graph, sundial_graph, task_findings
from migrate.html.index import Row, render_index
from migrate.html.page import plan_page, render_pages
from migrate.html.text import encode_page, visible
from migrate.mapping.rules import MappingRules
from migrate.report import KindGroup
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from tests.codegen.test_injection import _definition, hostile, name

RULES = MappingRules.load()

TAGS = {
    "html", "head", "meta", "title", "link", "body", "nav", "header", "h1", "h2", "h3",
    "dl", "dt", "dd", "p", "span", "a", "code", "section", "div", "figure",
    "figcaption", "svg", "defs", "marker", "path", "g", "rect", "text", "table",
    "thead", "tbody", "tr", "th", "td", "br", "ul", "li", "details", "summary", "b",
    "form", "label", "input", "fieldset", "legend", "select", "option", "button",
    "output", "script", "noscript", "bdi",
}  # fmt: skip
ATTRS = {
    "lang", "charset", "name", "content", "http-equiv", "rel", "href", "class", "id",
    "viewbox", "width", "height", "role", "aria-label", "font-family", "font-size",
    "fill", "refx", "refy", "markerwidth", "markerheight", "orient", "d", "x", "y",
    "rx", "stroke", "stroke-width", "stroke-dasharray", "marker-end", "text-anchor",
    "type", "data-worst", "data-kind", "data-w", "data-x", "data-k", "placeholder",
    "autocomplete", "value", "checked", "hidden", "aria-live", "src",
}  # fmt: skip


class Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def check(markup: str, scripts: int) -> tuple[str, list[str]]:
    """Only the builder's tags and attributes; no inline script, no link off the report.
    Returns the text and the attribute values."""
    parser = Markup()
    parser.feed(markup)
    parser.close()
    values = []
    for tag, attrs in parser.tags:
        assert tag in TAGS, tag
        for key, value in attrs:
            assert key in ATTRS, (tag, key)
            values.append(value or "")
            if key in ("href", "src"):
                assert ":" not in value.split("#")[0], value
    found = [
        dict(a)
        for t, a in parser.tags
        if t == "script" and dict(a).get("type") != "application/json"
    ]
    assert len(found) == scripts
    assert all(a.get("src") == "assets/index.js" and set(a) == {"src"} for a in found)
    return "".join(parser.text), values


def rows_json(markup: str) -> list:
    """The index's rows: JSON inside <script type="application/json">, which nothing in
    it can close."""
    start = markup.index('<script type="application/json" id="rows">') + 42
    end = markup.index("</script>", start)
    data = markup[start:end]
    assert "<" not in data and ">" not in data and "&" not in data
    return json.loads(data)


def shown(value: str) -> str:
    """What a page shows of a string: control characters as pictures, a lone surrogate
    as its escape."""
    return visible(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _page(data):
    process = read_process(data, SourceRef("hostile.json"))
    assert not isinstance(process, list), [str(p) for p in process]
    (model,) = convert_estate([process], RULES, "UTC")
    plan = plan_page(process, model, "UTC")
    (page,) = render_pages([(plan, ())])
    return process, model, page.decode("utf-8")


@settings(
    max_examples=int(os.environ.get("SUNDIAL_INJECTION_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    process_name=name,
    task_a=name,
    task_b=name,
    script=hostile,
    env_value=hostile,
    description=hostile,
    image=name,
    queue=name,
    arg=hostile,
)
def test_hostile_strings_are_text_on_the_page(
    process_name, task_a, task_b, script, env_value, description, image, queue, arg
):
    if task_a == task_b:
        task_b = task_b + "2"
    data = _definition(
        process_name,
        task_a,
        task_b,
        script,
        "SOME_VAR",
        env_value,
        description,
        image,
        queue,
        arg,
    )
    process, model, page = _page(data)
    text, _ = check(page, scripts=0)
    for value in (process_name, task_a, task_b):
        assert shown(value) in text
    if process.description:
        assert shown(process.description) in text
    assert shown(model.dag_id) in text

    row = Row(process_name, model.dag_id, model.file, "report/processes/x.html",
              (1, 2, 0, 3), "manual", ("batch", "shell"), 2, (0,))  # fmt: skip
    kind = KindGroup("manual", task_a, description, 1, [process_name])
    report = {
        "timezone": "UTC",
        "airflow": {"version": "3.0", "proven_on": "3.0.6"},
        "summary": {
            "processes_converted": 1,
            "definitions_invalid": 1,
            "findings": {"exact": 1},
            "processes_by_worst_finding": {"manual": 1},
        },
        "invalid": [
            {"file": script, "process": process_name, "field": arg, "message": env_value,
             "hint": description}  # fmt: skip
        ],
        "shared_files": [
            {"file": image, "versions": 2, "written_from": queue,
             "processes": [process_name, task_b]}  # fmt: skip
        ],
    }
    to_create = [("variable", task_b, env_value)]
    index = encode_page(
        render_index(report, [row], [kind], to_create, pictures=False)
    ).decode("utf-8")
    text, _ = check(index, scripts=1)
    for value in (script, arg, env_value, image, queue, task_b):
        assert shown(value) in text
    assert "written for Airflow 3.0 (proven on 3.0.6)" in text
    ((listed, dag_id, *_),) = rows_json(index)
    # the script draws it as text: control characters shown, even a lone surrogate kept
    assert (listed, dag_id) == (visible(process_name), model.dag_id)


def test_graphs_are_the_models():
    from tests.conftest import ESTATE
    from migrate.sundial.load import load_sources

    processes = {p.name: p for p in load_sources([ESTATE]).processes}
    process = processes["regional-sales-loads"]
    (model,) = convert_estate([process], RULES, "UTC")
    names = [t.name for t in process.tasks]
    by_task = task_findings(model.findings, names)
    sundial = sundial_graph(process, by_task)
    labels = [n.label for n in sundial.nodes]
    assert labels == sorted(names)
    deps = {
        (d.task_name, t.name, not d.success_required)
        for t in process.tasks
        for d in t.dependencies
    }
    assert {(labels[a], labels[b], opt) for a, b, opt in sundial.edges} == deps
    assert any(opt for *_, opt in sundial.edges)  # merge.global's optional upstreams
    airflow = airflow_graph(model, by_task)
    ids = [n.task_id for n in model.tasks]
    drawn = {(ids[a], ids[b]) for a, b, _ in airflow.edges}
    assert drawn == model.edges
    # an edge into a task that runs whatever its upstream did is dashed
    rules = {
        t.task_id: str(t.arguments["trigger_rule"].value).lower()
        for t in model.tasks
        if "trigger_rule" in t.arguments
    }
    for a, b, optional in airflow.edges:
        assert optional == (rules.get(ids[b], "all_success") != "all_success")
    assert "sundial_run_outcome" in ids  # the fixture process has one
    # colours: the worst finding of the node's Sundial task
    worst = {n.label: n.severity for n in sundial.nodes}
    assert worst["merge.global"] == "approximated"


needs_dot = pytest.mark.skipif(
    not layout.available(), reason="Graphviz's dot is not installed"
)


@needs_dot
def test_dot_lays_out_many_graphs_at_once():
    from migrate.html.layout import GraphSpec, _run, find_dot

    chain = GraphSpec(((100, 34), (80, 34), (90, 34)), ((0, 1), (1, 2)))
    diamond = GraphSpec(((100, 34),) * 4, ((0, 1), (0, 2), (1, 3), (2, 3)))
    together = _run(find_dot(), [chain, diamond, chain])
    alone = [_run(find_dot(), [s])[0] for s in (chain, diamond, chain)]
    assert together == alone
    c, d = together[0], together[1]
    ys = [y for _, y in c.centers]
    assert ys == sorted(ys) and len(set(ys)) == 3  # top to bottom, one rank each
    assert len({y for _, y in d.centers}) == 3  # the diamond's sides share a rank
    assert len(d.edges) == 4 and all(path.startswith("M") for path, _ in d.edges)


@needs_dot
def test_a_graph_dot_cannot_lay_out_costs_only_its_picture(monkeypatch):
    from migrate.html import layout as module

    good = module.GraphSpec(((100, 34), (80, 34)), ((0, 1),))
    bad = module.GraphSpec(((100, 34),), ((0, 5),))  # an edge to a node not declared
    real = module._run

    def picky(dot, specs):
        if bad in specs:
            raise ValueError("dot failed")
        return real(dot, specs)

    monkeypatch.setattr(module, "_run", picky)
    module._MEMO.clear()
    result = module.layout_many([good, bad])
    assert result[0] is not None and result[1] is None


def test_without_dot_the_pages_say_how_to_get_pictures(tmp_path, monkeypatch):
    import subprocess
    import sys

    from migrate.pipeline import convert
    from tests.conftest import ESTATE, ROOT

    monkeypatch.setenv(layout.DOT_ENV, "none")
    source = ESTATE / "2019-07" / "regional_sales_loads.json"
    result = convert([source], tmp_path / "out")
    assert not result.problems and not result.pictures
    page = tmp_path / "out" / "report" / "processes" / "regional-sales-loads.html"
    text = page.read_text()
    assert "<svg" not in text and "apt-get install graphviz" in text
    assert (
        "apt-get install graphviz"
        in (tmp_path / "out" / "report" / "index.html").read_text()
    )
    run = subprocess.run(
        [sys.executable, "-m", "migrate.cli", "convert", str(source), "--out",
         str(tmp_path / "cli")],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "no graphs" in run.stderr and "apt-get install graphviz" in run.stderr


def test_side_by_side_a_task_sits_in_the_same_place_in_both_graphs():
    """One Airflow task per Sundial task: the Airflow graph's nodes follow Sundial's
    order and share its node widths, so both pictures have one layout (laid out once).
    With a task of Airflow's own (the run outcome) the graphs keep their own shapes."""
    from tests.conftest import ESTATE
    from migrate.html.graphs import align
    from migrate.sundial.load import load_sources

    processes = load_sources([ESTATE]).processes
    models = {m.process: m for m in convert_estate(processes, RULES, "UTC")}
    aligned = kept = 0
    for process in processes:
        model = models[process.name]
        names = [t.name for t in process.tasks]
        by_task = task_findings(model.findings, names)
        sundial, airflow = sundial_graph(process, by_task), airflow_graph(
            model, by_task
        )
        left, right = align(sundial, airflow)
        assert [n.label for n in left.nodes] == [n.label for n in sundial.nodes]
        assert set(right.nodes) == set(airflow.nodes)
        ids = [n.label for n in right.nodes]
        assert {(ids[a], ids[b]) for a, b, _ in right.edges} == model.edges
        if all(t.sundial_task is not None for t in model.tasks):
            aligned += 1
            # node i of each graph stands for the same Sundial task
            assert list(right.origins) == [n.label for n in left.nodes]
            if {e[:2] for e in left.edges} == {e[:2] for e in right.edges}:
                assert left.spec() == right.spec()
        else:
            kept += 1
            assert (left, right) == (sundial, airflow)
    assert aligned and kept


def test_the_schedule_is_shown_as_the_dag_file_has_it():
    from tests.conftest import ESTATE
    from migrate.html.page import _schedule_section
    from migrate.sundial.load import load_sources

    processes = {p.name: p for p in load_sources([ESTATE]).processes}
    process = processes["regional-sales-loads"]
    (model,) = convert_estate([process], RULES, "UTC")
    shown = _schedule_section(process, model, "UTC")
    assert (
        "CronTriggerTimetable(&#x27;0 6 * * 1-5&#x27;, timezone=&#x27;UTC&#x27;, "
        "run_immediately=timedelta(seconds=0))" in shown
    )
    assert "Seconds(" not in shown
