"""The report stands on its own: it explains Sundial's behaviour in words and cites only
what a user can look up (Sundial's own source files), never this project's notes."""

from __future__ import annotations

import re

from tests.conftest import ESTATE_OUT

NOT_THEIRS = re.compile(r"SUNDIAL\.md|AIRFLOW\.md|shared/|§|/work/")


def test_findings_cite_nothing_the_user_does_not_have(converted_estate):
    for name in ("parity.md", "parity.json", "provenance.json"):
        text = (ESTATE_OUT / "report" / name).read_text(encoding="utf-8")
        assert NOT_THEIRS.search(text) is None, (name, NOT_THEIRS.search(text))
    for dag in (ESTATE_OUT / "dags").glob("*.py"):
        assert NOT_THEIRS.search(dag.read_text(encoding="utf-8")) is None, dag
    sources = re.findall(
        r"app/[\w/]+\.scala", (ESTATE_OUT / "report" / "parity.md").read_text()
    )
    assert sources  # Sundial's own files are cited where they help


def test_version_2_gives_back_every_finding_and_provenance(converted_estate):
    """Long messages are written once and exact fates counted, yet read_parity and
    read_provenance give back what version 1 wrote: every finding that is not exact,
    with its message, and every argument's fields and rule."""
    from migrate.convert import convert_estate
    from migrate.mapping.rules import MappingRules
    from migrate.report import provenance_entry, read_parity, read_provenance
    from migrate.sundial.load import load_sources
    from tests.conftest import ESTATE

    models = {
        m.process: m
        for m in convert_estate(
            load_sources([ESTATE]).processes, MappingRules.load(), "UTC"
        )
    }
    parity = read_parity(ESTATE_OUT / "report" / "parity.json")
    assert parity["report_version"] == 2
    for entry in parity["processes"]:
        model = models[entry["process"]]
        notable = [f.as_dict() for f in model.findings if f.severity != "exact"]
        # every finding that is not exact, and nothing else (an extra one fails)
        assert entry["findings"] == notable, entry["process"]
        assert entry["exact"] == sum(f.severity == "exact" for f in model.findings)
    exact_by_field = parity["summary"]["exact_by_field"]
    assert sum(exact_by_field.values()) == parity["summary"]["findings"]["exact"]
    provenance = read_provenance(ESTATE_OUT / "report" / "provenance.json")
    assert len(provenance["processes"]) == len(models)
    for entry in provenance["processes"]:
        assert entry == provenance_entry(models[entry["process"]])
    raw = (ESTATE_OUT / "report" / "provenance.json").stat().st_size
    parity_raw = (ESTATE_OUT / "report" / "parity.json").stat().st_size
    assert raw < 200_000 and parity_raw < 200_000  # version 1: 150 KB and 220 KB


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.text("ab.[]0", min_size=1, max_size=5)


@given(
    names=st.lists(_PIECES, min_size=1, max_size=4, unique=True),
    which=st.integers(0, 3),
    rest=st.sampled_from(["", ".x", "[0]", ".a[1].b", "]", "x"]),
)
def test_task_fields_split_like_split_field(names, which, rest):
    """The per-process lookup (names found at each "]") answers as the plain scan."""
    from migrate.report import TaskFields, split_field

    field = f"task_definitions[{names[which % len(names)]}]{rest}"
    assert TaskFields(names).split(field) == split_field(field, names)


def test_parity_md_shows_hostile_names_as_text(tmp_path):
    """Names holding HTML, a Markdown link and image, emphasis, backticks, a table pipe
    and an escape sequence: parity.md rendered by a CommonMark/GFM renderer
    (markdown-it-py) shows each as text, makes no element of it, and keeps every table
    row's cells."""
    import json
    import re

    from markdown_it import MarkdownIt

    from migrate.pipeline import convert
    from tests.conftest import ESTATE

    hostile = "x <img src=y onerror=alert(1)> [click](http://evil.example) ![i](z.png) *em* `c` | \x1b[2J"
    base = json.loads((ESTATE / "2019-07" / "regional_sales_loads.json").read_text())
    source = tmp_path / "source"
    source.mkdir()
    good = dict(base, process_definition_name=hostile)
    good["task_definitions"] = [
        dict(t, task_definition_name=f"{hostile} {i}")
        for i, t in enumerate(base["task_definitions"][:1])
    ]
    (source / "good.json").write_text(json.dumps(good))
    bad = dict(base, process_definition_name=hostile + " bad", task_definitions=7)
    (source / "bad.json").write_text(json.dumps(bad))
    out = tmp_path / "out"
    convert([source], out)
    markdown = (out / "report" / "parity.md").read_text(encoding="utf-8")
    assert "\x1b" not in markdown
    html = MarkdownIt("gfm-like").render(markdown)
    assert "<img" not in html
    assert "<em>em</em>" not in html and "<code>c</code>" not in html
    # no link hides where it goes: ours are relative; a URL written in a name may be
    # autolinked by GFM, but then it shows exactly that URL
    links = re.findall(r'<a href="([^"]*)">(.*?)</a>', html)
    assert links
    for href, shown in links:
        assert not href.startswith(("http", "javascript")) or shown == href, href
    assert 'href="http://evil.example">click' not in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    body = re.sub(r"<[^>]+>", "", html)
    assert "x &lt;img src=y onerror=alert(1)&gt; [click](http://evil.example)" in body
    table = [r for r in rows if r.count("<td") == 7]
    assert any("x &lt;img" in r for r in table)  # the process row: 7 cells, pipe kept
