"""The HTML report in a real browser (headless Chromium): every page of the fixture estate
renders with no console errors, loads nothing off the disk, shows both graphs; the index
filters its table; hostile strings from Sundial show as text and run nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import browser
from tests.conftest import ESTATE_OUT

pytestmark = pytest.mark.slow

_WHY = browser.missing()
if _WHY is not None:
    if os.environ.get("CI"):
        raise RuntimeError(f"browser tests cannot run in CI: {_WHY}")
    pytestmark = [pytestmark, pytest.mark.skip(reason=_WHY)]


@pytest.fixture(scope="module")
def chromium():
    with browser.chromium() as context:
        yield context


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def _open(chromium, path: Path):
    page = chromium.new_page()
    problems = browser.watch(page)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, problems


def test_every_page_renders_cleanly(converted_estate, chromium, screenshots):
    report = json.loads((ESTATE_OUT / "report" / "parity.json").read_text())
    page, problems = _open(chromium, ESTATE_OUT / "report" / "index.html")
    assert problems == []
    assert page.locator("#table tbody tr").count() == len(report["processes"])
    page.screenshot(path=str(screenshots / "index.png"), full_page=True)
    page.close()
    for entry in report["processes"]:
        page, problems = _open(chromium, ESTATE_OUT / entry["page"])
        assert problems == [], entry["page"]
        graphs = page.locator("svg.graph")
        assert graphs.count() == 2, entry["page"]
        sundial, airflow = graphs.nth(0), graphs.nth(1)
        assert sundial.locator("g.nodes rect").count() == len(entry["tasks"])
        assert airflow.locator("g.nodes rect").count() >= len(entry["tasks"])
        # the stylesheet beside the report applied (nothing else may load)
        assert (
            page.evaluate("getComputedStyle(document.body).maxWidth") == "1500px"
        ), entry["page"]
        link = page.locator("dl.facts a").first.get_attribute("href")
        assert (Path(ESTATE_OUT / entry["page"]).parent / link).resolve() == (
            ESTATE_OUT / entry["file"]
        ).resolve()
        if entry["process"] == "regional-sales-loads":
            page.screenshot(
                path=str(screenshots / "regional-sales-loads.png"), full_page=True
            )
        page.close()
    assert (screenshots / "regional-sales-loads.png").stat().st_size > 10_000


def _visible_rows(page) -> list[str]:
    return page.eval_on_selector_all(
        "#table tbody tr:not([hidden])", "rows => rows.map(r => r.cells[0].textContent)"
    )


def test_the_index_filters_in_the_page(converted_estate, chromium):
    report = json.loads((ESTATE_OUT / "report" / "parity.json").read_text())
    names = sorted(p["process"] for p in report["processes"])
    page, problems = _open(chromium, ESTATE_OUT / "report" / "index.html")
    assert sorted(_visible_rows(page)) == names
    page.fill("#q", "SALES")  # case does not matter; names and DAG ids both count
    expected = sorted(
        p["process"]
        for p in report["processes"]
        if "sales" in (p["process"] + " " + p["dag_id"]).lower()
    )
    assert expected and sorted(_visible_rows(page)) == expected
    assert page.text_content("#shown") == f"{len(expected)} of {len(names)}"
    page.fill("#q", "")
    # worst finding: keep only "manual"
    for severity in ("approximated", "unsupported", "exact"):
        page.uncheck(f'input[name="worst"][value="{severity}"]')
    rows = page.eval_on_selector_all(
        "#table tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.w)"
    )
    assert rows and set(rows) == {"manual"}
    for severity in ("approximated", "unsupported", "exact"):
        page.check(f'input[name="worst"][value="{severity}"]')
    # executor
    page.select_option("#executor", "emr")
    emr = page.eval_on_selector_all(
        "#table tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.x)"
    )
    assert emr and all("emr" in x.split() for x in emr)
    assert len(emr) < len(names)
    page.select_option("#executor", "")
    # a kind of difference lists exactly the processes that have it
    button = page.locator("#kinds button[data-kind]").first
    where = button.text_content()
    button.click()
    shown = _visible_rows(page)
    n = int(where.split(" processes")[0].split(" process")[0].split()[-1])
    assert len(shown) == n
    assert page.is_visible("#kind-filter")
    page.click("#kind-clear")
    assert len(_visible_rows(page)) == len(names)
    assert problems == []


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "</textarea><b>bold</b>",
    "\"'><svg onload=alert(3)>",
    "{{ 7*7 }} & &amp; \u202e",
]


def test_hostile_strings_render_as_text(tmp_path, chromium):
    from migrate.html.text import visible
    from migrate.pipeline import convert

    definition = {
        "process_definition_name": HOSTILE[0] + " proc",
        "process_description": "\n".join(HOSTILE),
        "schedule": {
            "cron_schedule": {
                "minutes": "0",
                "hours": "5",
                "day_of_month": "?",
                "month": "*",
                "day_of_week": "MON-FRI",
            }
        },
        "task_definitions": [
            {
                "task_definition_name": name,
                "dependencies": (
                    [{"task_definition_name": HOSTILE[0], "success_required": False}]
                    if i
                    else []
                ),
                "executable": {
                    "shell_script_command": {
                        "script": "echo " + name,
                        "environment_variables": [
                            {"variable_name": "X", "value": name},
                            {"variable_name": "DB_PASSWORD", "value": name},
                        ],
                    }
                },
                "max_attempts": 2,
                "backoff_base_seconds": 1,
            }
            for i, name in enumerate(HOSTILE)
        ],
    }
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(definition))
    out = tmp_path / "out"
    result = convert([source], out)
    assert not result.problems, [str(p) for p in result.problems]
    report = json.loads((out / "report" / "parity.json").read_text())
    (entry,) = report["processes"]
    for path in (out / "report" / "index.html", out / entry["page"]):
        page, problems = _open(chromium, path)
        assert problems == [], path
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img, textarea, svg:not(.graph):not(.bar)").count() == 0
        assert not page.evaluate(
            "[...document.querySelectorAll('b')].some(b => b.textContent === 'bold')"
        )
        body = page.inner_text("body")
        assert definition["process_definition_name"] in body
        if path.name != "index.html":
            for name in HOSTILE:  # as text; the bidi override shown as ⟦U+202E⟧
                assert visible(name).strip() in body, name
            titles = page.eval_on_selector_all(
                "svg.graph g.nodes title", "ts => ts.map(t => t.textContent)"
            )
            assert any(HOSTILE[1] in t for t in titles)
        page.close()


def test_a_bidi_override_in_a_name_is_shown_and_reorders_nothing(tmp_path, chromium):
    """A process named "rtl<RLO>evil": the page shows the override as ⟦U+202E⟧ instead
    of reversing the rest of the heading, the name is isolated (bdi), and the badge
    after it stays after it, reading left to right."""
    from migrate.pipeline import convert

    definition = json.loads(
        (
            Path(__file__).parents[2]
            / "fixtures/estate/2019-07/regional_sales_loads.json"
        ).read_text(encoding="utf-8")
    )
    definition["process_definition_name"] = "rtl\u202eevil"
    source = tmp_path / "bidi.json"
    source.write_text(json.dumps(definition))
    out = tmp_path / "out"
    result = convert([source], out)
    assert not result.problems, [str(p) for p in result.problems]
    (entry,) = json.loads((out / "report" / "parity.json").read_text())["processes"]
    for path in (out / entry["page"], out / "report" / "index.html"):
        assert "\u202e" not in path.read_text(encoding="utf-8"), path
    page, problems = _open(chromium, out / entry["page"])
    assert problems == []
    heading = page.locator("header h1")
    assert heading.inner_text().startswith("rtl⟦U+202E⟧evil ")
    name_box = heading.locator("bdi").bounding_box()
    badge_box = heading.locator(".badge").bounding_box()
    assert badge_box["x"] >= name_box["x"] + name_box["width"]
    page.close()
    page, problems = _open(chromium, out / "report" / "index.html")
    assert problems == []
    first = page.locator("#table tbody tr").first.locator("td")
    assert first.nth(0).locator("bdi").inner_text() == "rtl⟦U+202E⟧evil"  # isolated
    page.close()
