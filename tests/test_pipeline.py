"""`migrate convert` run after run: the cache converts only what changed, yet the output
is always byte for byte what a fresh convert writes; worker processes change nothing."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.cache import CACHE_DIR, CACHE_FILE
from migrate.pipeline import REPORT_FILES as REPORTS
from migrate.pipeline import convert
from migrate.report import read_parity
from tests.conftest import ESTATE, INVALID

# a small estate with every executor, optional dependencies and a Quartz timetable
SMALL = [
    "2019-07/regional_sales_loads.json",
    "2018-12/spark_daily_aggregations.json",
    "2016-02/legacy_crm_sync.yaml",
    "2019-07/board_pack_quarterly.json",
    "2019-07/ops_housekeeping.json",
]


def age(root: Path, seconds: float = 60) -> None:
    """Date files back, as definitions not edited in the last instant are (a file changed
    within a clock tick of being read is always read again: see RACY_NS)."""
    past = time.time_ns() - int(seconds * 1e9)
    for p in root.rglob("*"):
        os.utime(p, ns=(past, past))


def tree(root: Path) -> dict[str, bytes]:
    """Every output file (the cache is not output)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and CACHE_DIR not in p.parts
    }


def fresh(source: Path, tmp: Path, **kw) -> dict[str, bytes]:
    out = tmp / "fresh"
    shutil.rmtree(out, ignore_errors=True)
    convert([source], out, cache=False, **kw)
    return tree(out)


@pytest.fixture
def estate(tmp_path) -> Path:
    src = tmp_path / "estate"
    for rel in SMALL:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ESTATE / rel, src / rel)
    age(src)
    return src


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))


def test_rerun_without_changes_converts_nothing(estate, tmp_path):
    out = tmp_path / "out"
    first = convert([estate], out)
    assert first.built == len(first.processes) == 6  # one file holds two
    again = convert([estate], out)
    assert again.built == 0 and not again.sync.written
    assert tree(out) == fresh(estate, tmp_path)


def test_one_changed_definition_is_the_only_one_converted(estate, tmp_path):
    out = tmp_path / "out"
    convert([estate], out)
    edit_json(
        estate / SMALL[0],
        lambda d: d["task_definitions"][0].update(
            max_attempts=d["task_definitions"][0]["max_attempts"] + 2
        ),
    )
    again = convert([estate], out)
    assert again.built == 1
    written = set(again.sync.written)
    own = {"dags/regional-sales-loads.py", "report/processes/regional-sales-loads.html"}
    assert own <= written  # (parity.json counts exact fates: it may stay as it was)
    assert written <= {*own, *REPORTS}
    assert tree(out) == fresh(estate, tmp_path)


def test_a_change_within_one_clock_tick_is_not_missed(estate, tmp_path):
    """Same size, same file time (two writes in one tick): still converted again."""
    out = tmp_path / "out"
    path = estate / SMALL[0]
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    convert([estate], out)
    text = path.read_text()
    assert '"max_attempts": 3' in text
    path.write_text(text.replace('"max_attempts": 3', '"max_attempts": 4', 1))
    os.utime(path, ns=(now, now))
    assert convert([estate], out).built == 1
    assert tree(out) == fresh(estate, tmp_path)


def test_workers_write_the_same_bytes(tmp_path):
    one = tmp_path / "one"
    two = tmp_path / "two"
    a = convert([ESTATE, INVALID], one, jobs=1, cache=False)
    b = convert([ESTATE, INVALID], two, jobs=2, cache=False)
    assert [str(p) for p in a.problems] == [str(p) for p in b.problems]
    assert a.problems  # the invalid fixtures are reported by both
    assert tree(one) == tree(two)


def test_deleted_or_edited_outputs_are_noticed_despite_the_cache(estate, tmp_path):
    out = tmp_path / "out"
    convert([estate], out)
    dag = out / "dags" / "regional-sales-loads.py"
    dag.unlink()
    again = convert([estate], out)
    assert "dags/regional-sales-loads.py" in again.sync.written and dag.exists()
    dag.write_text(dag.read_text() + "# my change\n")
    refused = convert([estate], out)
    assert any("edited since it was generated" in str(p) for p in refused.problems)
    assert dag.read_text().endswith("# my change\n")
    convert([estate], out, force=True)
    assert tree(out) == fresh(estate, tmp_path)


def test_an_edited_report_is_refused_then_rebuilt_when_forced(estate, tmp_path):
    out = tmp_path / "out"
    convert([estate], out)
    report = out / "report" / "parity.md"
    report.write_text("mine\n")
    refused = convert([estate], out)
    assert any("parity.md" in str(p) for p in refused.problems)
    assert report.read_text() == "mine\n"
    convert([estate], out, force=True)
    assert tree(out) == fresh(estate, tmp_path)


def test_new_rules_or_zone_convert_everything_again(estate, tmp_path):
    out = tmp_path / "out"
    n = len(convert([estate], out).processes)
    rules = tmp_path / "team.yaml"
    rules.write_text("defaults:\n  owner: data-platform\n")
    assert convert([estate], out, mappings=[rules]).built == n
    assert convert([estate], out, mappings=[rules], timezone="Europe/London").built == n
    assert tree(out) == fresh(
        estate, tmp_path, mappings=[rules], timezone="Europe/London"
    )


def test_a_damaged_cache_costs_only_time(estate, tmp_path):
    out = tmp_path / "out"
    n = len(convert([estate], out).processes)
    (out / CACHE_DIR / CACHE_FILE).write_bytes(b"\x80\x05garbage")
    assert convert([estate], out).built == n
    assert tree(out) == fresh(estate, tmp_path)


def test_processes_sharing_a_job_definition_are_listed_once(estate, tmp_path):
    """Sundial named Batch job definitions after the task: two processes with a task of the
    same name and different images share one file.  Each says so; the estate-wide list in
    the report names both and whose version is written."""
    original = json.loads((estate / SMALL[0]).read_text())
    copy = json.loads(json.dumps(original))
    copy["process_definition_name"] = "zz-regional-copy"
    for task in copy["task_definitions"]:
        executable = task.get("executable", {})
        for command in executable.values():
            if isinstance(command, dict) and "image" in command:
                command["image"] = command["image"] + "-other"
    (estate / "copy.json").write_text(json.dumps(copy))
    out = tmp_path / "out"
    result = convert([estate], out)
    report = read_parity(out / "report" / "parity.json")
    shared = report["shared_files"]
    assert shared, "the two processes share a job definition file"
    for entry in shared:
        assert entry["processes"] == [
            original["process_definition_name"],
            "zz-regional-copy",
        ]
        assert entry["written_from"] == "zz-regional-copy"
        spec = json.loads((out / entry["file"]).read_text())
        assert "-other" in spec["containerProperties"]["image"]
    findings = {
        p["process"]: [
            f for f in p["findings"] if "also written for other" in f["message"]
        ]
        for p in report["processes"]
    }
    assert findings[original["process_definition_name"]]
    assert findings["zz-regional-copy"]
    # the copy goes away: nothing is shared any more, and the cache follows
    (estate / "copy.json").unlink()
    again = convert([estate], out)
    assert (
        json.loads((out / "report" / "parity.json").read_text())["shared_files"] == []
    )
    assert again.built == 1  # the original, whose finding is gone
    assert tree(out) == fresh(estate, tmp_path)
    assert result.exit_code(strict=False) == 0


# -- any sequence of edits: the cached output is always a fresh convert's ----------------

EDITS = st.lists(
    st.tuples(
        st.sampled_from(["retries", "rename", "copy", "delete", "touch", "break"]),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=4,
)


def _edit_definitions(path: Path, change) -> None:
    """Change every definition in a file (one, or a list); a broken file is left broken."""
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            change(item)
    path.write_text(json.dumps(data, indent=1))


def _apply(estate: Path, edit: str, which: int, step: int) -> None:
    files = sorted(p for p in estate.rglob("*.json"))
    if not files:
        return
    path = files[which % len(files)]
    if edit == "retries":
        _edit_definitions(
            path,
            lambda d: [
                t.update(max_attempts=1 + step % 5) for t in d["task_definitions"]
            ],
        )
    elif edit == "rename":  # may clash with another name once sanitized
        _edit_definitions(
            path, lambda d: d.update(process_definition_name=f"Proc {which}")
        )
    elif edit == "copy":
        target = estate / f"copy-{step}.json"
        shutil.copy(path, target)
        _edit_definitions(
            target, lambda d: d.update(process_definition_name=f"proc_{which}")
        )
    elif edit == "delete":
        path.unlink()
    elif edit == "touch":
        path.write_bytes(path.read_bytes())
    elif edit == "break":
        path.write_text(path.read_text()[:-2])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=EDITS)
def test_any_edit_sequence_gives_a_fresh_converts_output(tmp_path_factory, edits):
    tmp = tmp_path_factory.mktemp("edits")
    estate = tmp / "estate"
    for rel in SMALL:
        if rel.endswith(".json"):
            (estate / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ESTATE / rel, estate / rel)
    age(estate)
    out = tmp / "out"
    convert([estate], out)
    for step, (edit, which) in enumerate(edits):
        _apply(estate, edit, which, step)
        cached = convert([estate], out)
        fresh_out = tmp / f"fresh-{step}"
        uncached = convert([estate], fresh_out, cache=False)
        assert [str(p) for p in cached.problems] == [str(p) for p in uncached.problems]
        assert tree(out) == tree(fresh_out), (edits, step)


def test_pages_are_kept_like_dag_files(estate, tmp_path):
    """A process page the cache remembers is checked like a DAG file: deleted, it is
    written again; edited, it is refused unless forced."""
    out = tmp_path / "out"
    convert([estate], out)
    page = out / "report" / "processes" / "regional-sales-loads.html"
    original = page.read_bytes()
    page.unlink()
    again = convert([estate], out)
    assert again.built == 1 and page.read_bytes() == original
    page.write_text("mine")
    refused = convert([estate], out)
    assert any("regional-sales-loads.html" in str(p) for p in refused.problems)
    assert page.read_text() == "mine"
    convert([estate], out, force=True)
    assert tree(out) == fresh(estate, tmp_path)


@pytest.mark.parametrize("size", [3, 70])  # 70: the forked workers read the files
def test_malformed_definitions_never_stop_the_estate(tmp_path, size):
    """Wrong types where names belong, a 5,000-digit integer, a float past the double
    range, nesting thousands deep: one line per bad file, every valid process written,
    with or without the workers."""
    from fixtures.synthetic import generate, write
    from migrate.pipeline import convert

    sources = tmp_path / "estate"
    good = generate(size, seed=19)
    write(sources, good)
    first = json.dumps(good[0])
    bad = {
        "list-name.json": json.loads(first)
        | {"task_definitions": [{"task_definition_name": ["a", "b"]}]},
        "object-name.json": json.loads(first) | {"process_definition_name": {"x": 1}},
    }
    for name, data in bad.items():
        (sources / name).write_text(json.dumps(data))
    (sources / "digits.json").write_text(
        first.replace(
            '"process_definition_name": ', '"n": ' + "9" * 5000 + ', "x": ', 1
        )
    )
    (sources / "float.json").write_text(
        first.replace(
            '"process_definition_name": ', '"n": 1' + "0" * 400 + '.0, "x": ', 1
        )
    )
    (sources / "deep.json").write_text("[" * 5000 + "]" * 5000)
    result = convert([sources], tmp_path / "out", timezone="UTC")
    files = {Path(p.file).name for p in result.problems}
    assert files == set(bad) | {"digits.json", "float.json", "deep.json"}, [
        str(p) for p in result.problems
    ]
    assert all("\n" not in str(p) for p in result.problems)
    assert len(list((tmp_path / "out" / "dags").glob("*.py"))) == size


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_any_wrong_value_in_a_file_loses_nothing_else(tmp_path_factory, data):
    """Two valid definitions and one with any JSON value (or, in YAML, a mapping with
    non-string keys) put anywhere, in .json or .yaml files: the convert returns, each
    problem is one line about the bad file, both valid processes are converted."""
    import yaml

    from tests.sundial_strategies import definitions, json_values, replaced, value_paths

    root = tmp_path_factory.mktemp("wrong")
    sources = root / "estate"
    sources.mkdir()
    valid = [
        dict(data.draw(definitions()), process_definition_name=f"valid-{i}")
        for i in range(2)
    ]
    bad = dict(data.draw(definitions()), process_definition_name="bad-one")
    path = data.draw(st.sampled_from(list(value_paths(bad))))
    value = data.draw(
        json_values() | st.dictionaries(st.integers(), st.integers(), min_size=1)
    )
    bad = replaced(bad, path, value)
    as_yaml = data.draw(st.booleans())
    for name, definition in [
        ("valid-0", valid[0]),
        ("valid-1", valid[1]),
        ("bad", bad),
    ]:
        if as_yaml:
            text = yaml.safe_dump(definition)
            (sources / f"{name}.yaml").write_text(text, encoding="utf-8")
        else:
            text = json.dumps(definition, allow_nan=True, default=str)
            (sources / f"{name}.json").write_text(text, encoding="utf-8")
    result = convert([sources], root / "out", timezone="UTC", cache=False)
    for problem in result.problems:
        assert "\n" not in str(problem)
        assert Path(problem.file).stem == "bad", str(problem)
    converted = {p.process for p in result.processes}
    assert {"valid-0", "valid-1"} <= converted
    for p in result.processes:
        assert (root / "out" / p.file).is_file()
