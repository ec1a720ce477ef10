"""`migrate verify` when it cannot run: bad input and unreachable or wrong servers are one
line and exit 2, checked before any request; the report maps processes to the DAG ids
the mapping rules produced.  (Against a real Airflow: test_live.py.)"""

from __future__ import annotations

import http.server
import threading

import pytest
from click.testing import CliRunner

from migrate.verify.command import verify_command
from migrate.verify.core import read_report
from tests.conftest import ESTATE
from tests.run.harness import free_port


def run(*args, env=None):
    result = CliRunner().invoke(verify_command, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def report(converted_estate):
    from tests.conftest import ESTATE_OUT

    return ESTATE_OUT


def test_bad_input_is_one_line_exit_2_before_any_request(report, tmp_path):
    url = "http://127.0.0.1:9"  # nothing listens: any request would fail differently
    cases = [
        ((ESTATE, "--report", tmp_path, "--airflow-url", url), "--report"),
        (
            (
                ESTATE,
                "--report",
                report,
                "--airflow-url",
                url,
                "--timezone",
                "Mars/Base",
            ),
            "is not an IANA time zone",
        ),
        (
            (ESTATE, "--report", report, "--airflow-url", url, "--username", "admin"),
            "--username and --password-env go together",
        ),
        (
            (ESTATE, "--report", report, "--airflow-url", url, "--token-env", "NOPE_X"),
            "--token-env NOPE_X: the environment variable is not set",
        ),
        (
            (tmp_path / "missing", "--report", report, "--airflow-url", url),
            "missing",
        ),
    ]
    for args, expected in cases:
        code, stdout, stderr = run(*args)
        assert code == 2 and stdout == "", (args, stderr)
        (line,) = stderr.splitlines()
        assert line.startswith("error: ") and expected in line, (args, line)


def test_nothing_listening_is_exit_2(report):
    port = free_port()
    code, _, stderr = run(
        ESTATE, "--report", report, "--airflow-url", f"http://127.0.0.1:{port}"
    )
    assert code == 2
    assert stderr.splitlines() == [
        f"error: cannot connect to http://127.0.0.1:{port}: connection refused"
    ]


def test_a_server_that_is_not_airflow_is_exit_2(report, tmp_path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Quiet(*a, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, stderr = run(
            ESTATE,
            "--report",
            report,
            "--airflow-url",
            url,
            "--username",
            "u",
            "--password-env",
            "PW",
            env={"PW": "secret-pw"},
        )
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2
    assert stderr.splitlines() == [
        f"error: {url}: GET /api/v2/version answered 404: not an Airflow 3 API server "
        "(check --airflow-url: the api-server's base URL)"
    ]
    assert "secret-pw" not in stderr


def test_the_report_gives_the_dag_ids_mapping_rules_produced(
    tmp_path, converted_estate
):
    from migrate.pipeline import convert

    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ndefaults:\n  dag_id_prefix: 'legacy-'\n")
    out = tmp_path / "out"
    assert not convert([ESTATE], out, [rules], timezone="Europe/London").problems
    for where in (out, out / "report" / "parity.json"):
        mapping, tz = read_report(where)
        assert tz == "Europe/London"
        assert mapping["finance/daily close"].dag_id == "legacy-finance_daily_close"
        assert mapping["finance/daily close"].file == "legacy-finance_daily_close.py"
        assert len(mapping) == 28
