"""`migrate export --url` against the fixture server: round trip through `convert`, counts,
history, the manifest, atomicity and the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.server import FixtureServer, load_estate
from migrate.extract.command import export_command
from migrate.extract.export import export_api
from migrate.extract.http import ExportError
from migrate.pipeline import convert
from tests.conftest import ESTATE
from tests.extract.conftest import EXPORT_DAYS, FAST, NOW


def dag_files(root: Path) -> dict[str, bytes]:
    """Every file under dags/, byte for byte."""
    base = root / "dags"
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def run_cli(*args, env=None):
    return CliRunner().invoke(export_command, [str(a) for a in args], env=env)


def test_round_trip_through_convert(server, tmp_path):
    export = tmp_path / "export"
    result = export_api(server.url, export, FAST, history_days=EXPORT_DAYS, now=NOW)
    assert result.warnings == []
    via_export = convert([export], tmp_path / "from-export")
    direct = convert([ESTATE], tmp_path / "direct")
    assert not via_export.problems and not direct.problems
    exported, expected = dag_files(tmp_path / "from-export"), dag_files(
        tmp_path / "direct"
    )
    assert len(expected) == 28
    assert exported.keys() == expected.keys()
    for name in expected:
        assert exported[name] == expected[name], name


def test_export_layout_counts_and_manifest(server, tmp_path):
    out = tmp_path / "export"
    result = export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["tool"] == "sundial-migrate"
    assert manifest["source"] == server.url
    definitions = sorted((out / "process_definitions").glob("*.json"))
    assert len(definitions) == 28
    assert manifest["counts"]["process_definitions"] == 28
    assert manifest["counts"]["task_definitions"] == sum(
        len(d["task_definitions"]) for d in load_estate()
    )
    assert set(manifest["api_generations_seen"]) == {"2016-02", "2018-12", "2019-07"}
    # each file is what the API served, and the checksums match
    import hashlib

    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    served = {d["process_definition_name"]: d for d in load_estate()}
    for path in definitions:
        data = json.loads(path.read_text())
        assert data == served[data["process_definition_name"]]
    # 'sales report' and 'sales_report' never share a file; the slash is not a directory
    names = [p.name for p in definitions]
    assert len(set(names)) == 28 and not any("/" in n for n in names)


def test_history_is_exported_oldest_first(server, tmp_path):
    out = tmp_path / "export"
    export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    lines = (out / "history" / "processes.jsonl").read_text().splitlines()
    runs = [json.loads(line) for line in lines]
    expected = list(server.history.runs(NOW - timedelta(days=EXPORT_DAYS), NOW))
    assert len(runs) == len(expected) > 100
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["history_processes"] == len(runs)
    assert manifest["counts"]["history_tasks"] == sum(len(r["tasks"]) for r in runs)
    assert [r["start_time"] for r in runs] == sorted(r["start_time"] for r in runs)
    assert {r["process_id"] for r in runs} == {r.process_id for r in expected}
    statuses = {r["status"] for r in runs}
    assert {"succeeded", "failed"} <= statuses
    run = runs[0]
    assert set(run) == {
        "process_id",
        "process_definition_name",
        "start_time",
        "end_time",
        "status",
        "tasks",
    }
    assert set(run["tasks"][0]) == {
        "task_id",
        "task_definition_name",
        "start_time",
        "end_time",
        "status",
        "previous_attempt_count",
    }
    retried = [t for r in runs for t in r["tasks"] if t["previous_attempt_count"] > 0]
    assert retried


def test_small_max_records_splits_windows(server, tmp_path):
    out = tmp_path / "export"
    result = export_api(
        server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW, max_records=20
    )
    full = export_api(
        server.url, tmp_path / "full", FAST, history_days=EXPORT_DAYS, now=NOW
    )
    assert (out / "history" / "processes.jsonl").read_bytes() == (
        tmp_path / "full" / "history" / "processes.jsonl"
    ).read_bytes()
    assert result.manifest["counts"] == full.manifest["counts"]


def export_bytes(root: Path) -> dict[str, bytes]:
    """Every file of an export, byte for byte (the manifest without its time)."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    manifest = json.loads(files.pop("manifest.json"))
    del manifest["exported_at"]
    files["manifest.json"] = json.dumps(manifest).encode()
    return files


@pytest.mark.parametrize(
    "changes",
    [
        {"workers": 1},
        {"workers": 5, "max_records": 7},
        {"window": timedelta(hours=5), "max_records": 5},
    ],
)
def test_the_export_does_not_depend_on_threads_or_windows(server, tmp_path, changes):
    one = export_api(
        server.url, tmp_path / "a", FAST, history_days=EXPORT_DAYS, now=NOW
    )
    export_api(
        server.url, tmp_path / "b", FAST, history_days=EXPORT_DAYS, now=NOW, **changes
    )
    assert export_bytes(tmp_path / "a") == export_bytes(tmp_path / "b")
    assert one.manifest["counts"]["history_processes"] > 100


def test_without_msgspec_the_export_is_the_same(server, tmp_path, monkeypatch):
    from migrate.extract import api

    export_api(server.url, tmp_path / "a", FAST, history_days=EXPORT_DAYS, now=NOW)
    monkeypatch.setattr(api, "_decode_runs", None)  # every window: json, history_record
    export_api(server.url, tmp_path / "b", FAST, history_days=EXPORT_DAYS, now=NOW)
    assert export_bytes(tmp_path / "a") == export_bytes(tmp_path / "b")


def test_history_fails_after_the_definitions_are_checked(server, tmp_path):
    """A history error is raised only once every definition is written, as when one
    thread did both: a definitions problem would still be the one reported."""
    server.inject("status", times=None, path="/api/processes/", status=500)
    with pytest.raises(ExportError, match="processes/: HTTP 500 after 5 attempts"):
        export_api(server.url, tmp_path / "e", FAST, history_days=EXPORT_DAYS, now=NOW)
    assert leftovers(tmp_path) == []


def test_process_globs(server, tmp_path):
    out = tmp_path / "export"
    result = export_api(
        server.url,
        out,
        FAST,
        history_days=EXPORT_DAYS,
        now=NOW,
        processes=["sales*", "finance/*"],
    )
    names = sorted(
        json.loads(p.read_text())["process_definition_name"]
        for p in (out / "process_definitions").glob("*.json")
    )
    assert names == ["finance/daily close", "sales report", "sales_report"]
    runs = (out / "history" / "processes.jsonl").read_text().splitlines()
    assert {json.loads(r)["process_definition_name"] for r in runs} <= set(names)
    assert result.manifest["counts"]["process_definitions"] == 3


def test_buggy_dependencies_are_warned_about(tmp_path):
    with FixtureServer(now=NOW, history_days=1, buggy_dependencies=True) as buggy:
        result = export_api(buggy.url, tmp_path / "export", FAST, history_days=0)
    warnings = [w for w in result.warnings if "both a required and an optional" in w]
    assert warnings and result.exit_code == 1
    assert any("'regional-sales-loads'" in w for w in warnings)
    assert result.manifest["warnings"] == result.warnings


def test_buggy_dependencies_off_by_default(server, tmp_path):
    result = export_api(server.url, tmp_path / "export", FAST, history_days=0)
    assert result.warnings == [] and result.exit_code == 0


def test_unknown_fields_are_kept_and_listed(server, tmp_path):
    import requests

    defn = json.loads(json.dumps(load_estate()[0]))
    defn["owner_team"] = "growth"
    defn["task_definitions"][0]["priority"] = 7
    name = defn["process_definition_name"]
    assert requests.put(f"{server.url}/api/process_definitions/{name}", json=defn).ok
    out = tmp_path / "export"
    result = export_api(server.url, out, FAST, history_days=0)
    fields = {(u["process"], u["field"]) for u in result.manifest["unknown_fields"]}
    task = defn["task_definitions"][0]["task_definition_name"]
    assert (name, "owner_team") in fields
    assert (name, f"task_definitions[{task}].priority") in fields
    rel = next(u["file"] for u in result.manifest["unknown_fields"])
    kept = json.loads((out / rel).read_text())
    assert (
        kept["owner_team"] == "growth" and kept["task_definitions"][0]["priority"] == 7
    )


def leftovers(parent: Path) -> list[str]:
    return sorted(
        p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name
    )


def test_failure_mid_export_leaves_nothing_complete(server, tmp_path):
    out = tmp_path / "export"
    server.inject("status", times=None, path="/api/processes/", status=500)
    with pytest.raises(ExportError):
        export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_failure_keeps_the_previous_export(server, tmp_path):
    out = tmp_path / "export"
    export_api(server.url, out, FAST, history_days=1, now=NOW)
    before = (out / "manifest.json").read_bytes()
    server.inject("truncate", times=None, path="/api/processes/")
    with pytest.raises(ExportError, match="cut off"):
        export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    assert (out / "manifest.json").read_bytes() == before
    assert leftovers(tmp_path) == []
    server.clear_faults()
    export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    assert (out / "manifest.json").read_bytes() != before
    assert leftovers(tmp_path) == []


def test_interrupted_export_leaves_no_manifest(server, tmp_path, monkeypatch):
    from migrate.extract import writer

    out = tmp_path / "export"

    def boom(self, lines):
        raise KeyboardInterrupt

    # every history line goes through add_history (add_run, the database path, too)
    monkeypatch.setattr(writer.ExportWriter, "add_history", boom)
    with pytest.raises(KeyboardInterrupt):
        export_api(server.url, out, FAST, history_days=EXPORT_DAYS, now=NOW)
    assert not out.exists() and leftovers(tmp_path) == []


def test_refuses_to_overwrite_a_directory_that_is_not_an_export(server, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_cli("--url", server.url, "--out", out, "--history-days", 0)
    assert result.exit_code == 2
    assert "not a previous export" in result.output
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "manifest, extra, why",
    [
        ('{"name": "my web app", "icons": []}', None, "not written by sundial-migrate"),
        ("not json at all", None, "not an export manifest"),
        ('["sundial-migrate"]', None, "not written by sundial-migrate"),
        (None, "notes.txt", "holds notes.txt, which the previous export did not write"),
    ],
)
def test_only_an_export_of_this_tool_is_replaced(
    server, tmp_path, manifest, extra, why
):
    """A web app's manifest.json, or the user's own file added to an export: one line,
    exit 2, every file still there."""
    out = tmp_path / "export"
    if manifest is None:  # a real previous export, plus a file of the user's
        export_api(server.url, out, FAST, history_days=0, now=NOW)
    else:
        out.mkdir()
        (out / "manifest.json").write_text(manifest)
        (out / "index.html").write_text("<p>mine</p>")
    if extra:
        (out / extra).write_text("mine")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = run_cli("--url", server.url, "--out", out, "--history-days", 0)
    assert result.exit_code == 2, result.output
    (line,) = [l for l in result.output.splitlines() if l.startswith("error:")]
    assert why in line and str(out) in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert leftovers(tmp_path) == []


# -- the command line ------------------------------------------------------------------


def test_cli_exit_0_and_summary(server, tmp_path):
    result = run_cli("--url", server.url, "--out", tmp_path / "e", "--history-days", 2)
    assert result.exit_code == 0, result.output
    assert "Exported 28 process definitions" in result.output


def test_cli_needs_exactly_one_source(tmp_path):
    assert run_cli("--out", tmp_path / "e").exit_code == 2
    both = run_cli("--url", "http://x", "--db", "dbname=x", "--out", tmp_path / "e")
    assert both.exit_code == 2 and "exactly one" in both.output


def test_cli_bad_header(server, tmp_path):
    result = run_cli(
        "--url", server.url, "--out", tmp_path / "e", "--header", "nocolon"
    )
    assert result.exit_code == 2 and "Name: value" in result.output


def test_cli_token_never_printed(server, tmp_path):
    secret = "tok-9f8e7d6c5b4a-secret"
    server.token = secret
    ok = run_cli(
        "--url",
        server.url,
        "--out",
        tmp_path / "ok",
        "--token-env",
        "SUNDIAL_TOKEN",
        "--history-days",
        1,
        env={"SUNDIAL_TOKEN": secret},
    )
    assert ok.exit_code == 0, ok.output
    assert server.log[-1][2]["Authorization"] == f"Bearer {secret}"
    bad = run_cli(
        "--url",
        server.url,
        "--out",
        tmp_path / "bad",
        "--token-env",
        "SUNDIAL_TOKEN",
        env={"SUNDIAL_TOKEN": secret + "-wrong"},
    )
    assert bad.exit_code == 2 and "401" in bad.output
    for result in (ok, bad):
        assert secret not in result.output
    exported = "".join(
        p.read_text(errors="replace")
        for p in (tmp_path / "ok").rglob("*")
        if p.is_file()
    )
    assert secret not in exported


def test_cli_404_and_401_are_one_line(server, tmp_path):
    result = run_cli("--url", server.url + "/wrong/prefix", "--out", tmp_path / "e")
    assert result.exit_code == 2
    errors = [l for l in result.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "404" in errors[0]
    server.token = "needed"
    result = run_cli("--url", server.url, "--out", tmp_path / "e")
    assert result.exit_code == 2 and "--token-env" in result.output


def test_cli_buggy_dependencies_exit_1(tmp_path):
    with FixtureServer(now=NOW, history_days=1, buggy_dependencies=True) as buggy:
        result = run_cli("--url", buggy.url, "--out", tmp_path / "e", "-q")
    assert result.exit_code == 1
    assert "warning:" in result.output and "--db" in result.output
    assert (tmp_path / "e" / "manifest.json").is_file()
