"""The command line: layout of the output, exit codes 0/1/2, --strict, one line per problem."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ESTATE, INVALID, ROOT


def migrate(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "migrate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_help_teaches():
    result = migrate("convert", "--help")
    assert result.returncode == 0
    for word in ("--timezone", "--mappings", "--strict", "parity"):
        assert word in result.stdout


def test_valid_estate_exit_0_and_layout(tmp_path):
    result = migrate("convert", ESTATE, "--out", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(list((tmp_path / "dags").glob("*.py"))) >= 24
    assert (tmp_path / "plugins" / "sundial_compat" / "shell.py").is_file()
    report = json.loads((tmp_path / "report" / "parity.json").read_text())
    assert report["summary"]["processes_converted"] == len(report["processes"])
    assert (tmp_path / "report" / "parity.md").read_text().startswith("# Sundial")


def test_strict_fails_when_anything_is_not_exact(tmp_path):
    assert (
        migrate("convert", ESTATE, "--out", tmp_path, "-q", "--strict").returncode == 1
    )


def test_invalid_input_exit_1_one_line_each_valid_still_written(tmp_path):
    result = migrate("convert", INVALID, "--out", tmp_path, "-q")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"invalid: {INVALID}/") for line in lines)
    assert "Traceback" not in result.stderr
    assert len(lines) == len(
        [p for p in INVALID.iterdir() if p.suffix in (".json", ".yaml")]
    )
    assert [p.name for p in (tmp_path / "dags").iterdir()] == ["valid-in-mixed-file.py"]


def test_bad_usage_exit_2(tmp_path):
    assert migrate("convert", tmp_path / "missing", "--out", tmp_path).returncode == 2
    assert (
        migrate(
            "convert", ESTATE, "--out", tmp_path, "--timezone", "Mars/Base"
        ).returncode
        == 2
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{set: {nope: 1}}]")
    result = migrate("convert", ESTATE, "--out", tmp_path, "--mappings", bad)
    assert result.returncode == 2 and "unknown setting 'nope'" in result.stderr
    assert migrate("convert", "--out", tmp_path).returncode == 2  # no SOURCE


def test_inline_secrets_is_loud(tmp_path):
    result = migrate("convert", ESTATE, "--out", tmp_path, "-q", "--inline-secrets")
    assert result.returncode == 0
    assert "WARNING: --inline-secrets" in result.stderr
    dags = "".join(p.read_text() for p in (tmp_path / "dags").glob("*.py"))
    assert "fake-not-a-secret" in dags
    report = (tmp_path / "report" / "parity.md").read_text()
    assert "SECRET VALUES WRITTEN INTO THE DAG FILE" in report


def test_secrets_stay_out_by_default(tmp_path):
    assert migrate("convert", ESTATE, "--out", tmp_path, "-q").returncode == 0
    dags = "".join(p.read_text() for p in (tmp_path / "dags").glob("*.py"))
    assert "fake-not-a-secret" not in dags
    # the operators read them at run time from the Airflow Variables the report lists
    assert "secret_env={" in dags and '"DB_PASSWORD": "sundial_' in dags


UNSAFE = ("\x1b", "\r", "\x07", "\x9b", "\u202e", "\u2028")


def test_names_cannot_rewrite_the_terminal(tmp_path):
    """Process and task names holding ESC/CSI/OSC sequences, a carriage return, a C1 CSI,
    a bidi override and a line separator: every line convert prints shows them escaped,
    one line per problem still."""
    source = tmp_path / "source"
    source.mkdir()
    base = json.loads((ESTATE / "2019-07" / "regional_sales_loads.json").read_text())
    hostile = "x\x1b]0;pwned\x07\r\x1b[2J\x9b1m\u202eevil\u2028line"
    bad = dict(base, process_definition_name=hostile)
    bad["task_definitions"] = [
        dict(t, task_definition_name=hostile) for t in base["task_definitions"][:2]
    ]  # two tasks with one name: invalid
    (source / "bad.json").write_text(json.dumps(bad))
    (source / "good.json").write_text(json.dumps(base))
    result = migrate("convert", source, "--out", tmp_path / "out")
    assert result.returncode == 1
    for raw in UNSAFE:
        assert raw not in result.stderr + result.stdout, repr(raw)
    invalid = [l for l in result.stderr.splitlines() if l.startswith("invalid: ")]
    assert len(invalid) == 1, result.stderr
    assert "\\x1b]0;pwned\\x07\\x0d\\x1b[2J\\x9b1m\\u202eevil\\u2028line" in invalid[0]
    assert (tmp_path / "out" / "dags" / "regional-sales-loads.py").exists()
