"""Finding and reading definition files."""

from __future__ import annotations

import json

import pytest

from migrate.sundial.load import SourceError, load_sources
from tests.conftest import ESTATE, INVALID


def _def(name):
    return {
        "process_definition_name": name,
        "task_definitions": [
            {
                "task_definition_name": "t",
                "dependencies": [],
                "executable": {"shell_script_command": {"script": "true"}},
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            }
        ],
    }


def test_fixture_estate_loads_completely():
    result = load_sources([ESTATE])
    assert result.problems == []
    assert len(result.processes) >= 24
    generations = {g for p in result.processes for g in p.generations}
    assert generations == {"2016-02", "2018-12", "2019-07"}


def test_invalid_corpus_one_line_each_and_valid_survivor():
    result = load_sources([INVALID])
    assert [p.name for p in result.processes] == ["valid-in-mixed-file"]
    files = sorted(p.name for p in INVALID.iterdir() if p.suffix in (".json", ".yaml"))
    reported = sorted(
        {problem.file.split("/")[-1].split("[")[0] for problem in result.problems}
    )
    assert reported == files  # every broken file is reported
    assert len(result.problems) == len(files)  # and only once


def test_list_file_yaml_and_duplicate_names(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([_def("one"), _def("two")]))
    (tmp_path / "b.yaml").write_text(
        "process_definition_name: three\ntask_definitions:\n- task_definition_name: t\n  dependencies: []\n  executable: {shell_script_command: {script: 'true'}}\n  max_attempts: 1\n  backoff_base_seconds: 0\n"
    )
    (tmp_path / "c.json").write_text(json.dumps(_def("one")))
    result = load_sources([tmp_path])
    assert sorted(p.name for p in result.processes) == ["one", "three", "two"]
    (dup,) = result.problems
    assert "duplicate process name" in str(dup) and "a.json[0]" in str(dup)


def test_export_directory_reads_only_definitions(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "process_definitions").mkdir()
    (tmp_path / "process_definitions" / "x.json").write_text(json.dumps(_def("x")))
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "runs.json").write_text("[]")
    result = load_sources([tmp_path])
    assert [p.name for p in result.processes] == ["x"] and result.problems == []


def test_missing_source_is_a_usage_error(tmp_path):
    with pytest.raises(SourceError):
        load_sources([tmp_path / "nope"])


def test_deep_nesting_and_huge_files_are_one_line_each(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000)
    big = [_def(f"p{i}") for i in range(2000)]
    (tmp_path / "big.json").write_text(json.dumps(big))
    result = load_sources([tmp_path])
    assert len(result.processes) == 2000
    messages = sorted(str(p) for p in result.problems)
    assert len(messages) == 2, messages
    assert all("deep." in m for m in messages)
