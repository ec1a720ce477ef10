"""The export client against servers that lie: a redirect to another origin (the token
and --header values must not follow it), a redirect loop, a compression bomb, a body
trickled a byte at a time.  Each is one ExportError line, in bounded time and memory."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest

from migrate.extract.http import Client, ExportError, HttpOptions
from tests.hostile_server import json_answer as _json, redirect as _redirect

OPTIONS = dict(timeout=2, retries=0, headers={"X-Api-Key": "secret-header-value"})


def test_a_redirect_to_another_origin_is_not_followed(servers, monkeypatch):
    monkeypatch.setenv("SUNDIAL_TOKEN", "secret-token")
    elsewhere = servers(_json)
    origin = servers(lambda h: _redirect(h, elsewhere.url + "/api/processes/"))
    client = Client(origin.url, HttpOptions(token_env="SUNDIAL_TOKEN", **OPTIONS))
    with pytest.raises(ExportError) as error:
        client.get_bytes("/processes/")
    message = str(error.value)
    assert "another origin than --url's: not followed" in message
    assert elsewhere.url in message and "\n" not in message
    assert elsewhere.seen == []  # neither the token nor the header went there
    assert "secret" not in message


def test_a_redirect_within_the_origin_is_followed_with_the_credentials(servers):
    def behave(h):
        if h.path.startswith("/api/old/"):
            _redirect(h, "/api/processes/", 308)
        else:
            _json(h, b'[{"x": 1}]')

    server = servers(behave)
    client = Client(server.url, HttpOptions(**OPTIONS))
    assert client.get_bytes("/old/") == b'[{"x": 1}]'
    assert [p for _, p, _ in server.seen] == ["/api/old/", "/api/processes/"]
    assert server.seen[1][2]["X-Api-Key"] == "secret-header-value"


def test_a_redirect_loop_is_one_line(servers):
    server = servers(lambda h: _redirect(h, h.path))
    with pytest.raises(ExportError, match="more than 5 redirects"):
        Client(server.url, HttpOptions(**OPTIONS)).get_bytes("/processes/")
    assert len(server.seen) == 6


def test_a_compression_bomb_stops_at_the_cap(servers):
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # ~64 KB

    def behave(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(bomb)))
        h.end_headers()
        h.wfile.write(bomb)

    server = servers(behave)
    options = HttpOptions(**OPTIONS, max_response_bytes=4 * 1024 * 1024)
    with pytest.raises(ExportError, match="larger than 4 MiB decoded"):
        Client(server.url, options).get_bytes("/processes/")


def test_a_trickling_body_is_bounded_by_the_timeout(servers):
    def behave(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        try:
            for _ in range(1000):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server = servers(behave)
    with pytest.raises(ExportError, match="took longer than --timeout 1s") as error:
        Client(server.url, HttpOptions(timeout=1, retries=0)).get_bytes("/processes/")
    got = int(re.search(r"\((\d+) bytes so far\)", str(error.value))[1])
    assert got < 1000  # stopped long before the server's 100 s of body


def _estate_and_one_run():
    """The fixture Sundial's definitions listing (bytes) and one of its runs."""
    from datetime import datetime, timezone
    from urllib.parse import urlencode
    from urllib.request import urlopen

    from fixtures.server import FixtureServer
    from migrate.extract.api import STATUSES

    now = datetime(2026, 1, 15, 12, tzinfo=timezone.utc)
    with FixtureServer(now=now, history_days=2) as fixture:
        listing = urlopen(f"{fixture.url}/api/process_definitions/").read()
        query = urlencode(
            [
                ("start_time", "2026-01-14T00:00:00Z"),
                ("end_time", "2026-01-15T00:00:00Z"),
            ]
            + [("max_records", "1")]
            + [("allowed_statuses", s) for s in STATUSES]
        )
        (run,) = json.loads(urlopen(f"{fixture.url}/api/processes/?{query}").read())
    return listing, run


def test_a_server_that_always_fills_max_records_is_one_line(servers, tmp_path):
    """Every history window comes back full, however small and however many runs it
    asks for: the export halves windows down to a second, doubles max_records a bounded
    number of times, then stops with one line (exit 2) and writes nothing."""
    from urllib.parse import parse_qs, urlsplit

    from click.testing import CliRunner

    from migrate.extract.command import export_command

    listing, run = _estate_and_one_run()
    asked = []

    def behave(h):
        url = urlsplit(h.path)
        if url.path.startswith("/api/process_definitions"):
            return _json(h, listing)
        n = int(parse_qs(url.query)["max_records"][0])
        asked.append(n)
        _json(h, [dict(run, process_id=f"{len(asked)}-{i}") for i in range(n)])

    server = servers(behave)
    out = tmp_path / "export"
    result = CliRunner().invoke(
        export_command,
        [
            "--url",
            server.url,
            "--out",
            str(out),
            "--history-days",
            "1",
            "-q",
            "--timeout",
            "10",
            "--retries",
            "0",
        ],
    )
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "came back full again with max_records=" in line, line
    assert "--history-days 0" in line
    assert max(asked) <= 2000 * 64 and len(asked) < 200
    assert not out.exists()


def test_the_response_cap_is_a_setting(servers, tmp_path):
    """A definitions listing larger than --max-response-mb is one line naming the
    setting (exit 2, nothing written); a larger cap reads it."""
    from click.testing import CliRunner

    from migrate.extract.command import export_command

    listing, _ = _estate_and_one_run()
    padded = listing[:-1] + b" " * (1024 * 1024) + listing[-1:]  # still valid JSON
    server = servers(lambda h: _json(h, padded))
    out = tmp_path / "export"
    args = ["--url", server.url, "--out", str(out), "--history-days", "0", "-q"]
    result = CliRunner().invoke(export_command, [*args, "--max-response-mb", "1"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "larger than 1 MiB decoded" in line and "--max-response-mb raises" in line
    assert not out.exists()
    result = CliRunner().invoke(export_command, [*args, "--max-response-mb", "2"])
    assert result.exit_code == 0, result.output
    assert len(list((out / "process_definitions").glob("*.json"))) == 28


def test_names_from_the_server_cannot_rewrite_the_terminal(servers, tmp_path):
    """A definition whose name holds terminal escapes and is invalid: export's warning
    line shows the name escaped; the valid definitions are exported."""
    from click.testing import CliRunner

    from migrate.extract.command import export_command

    listing, _ = _estate_and_one_run()
    definitions = json.loads(listing)
    hostile = dict(
        definitions[0],
        process_definition_name="x\x1b]0;pwned\x07\r\x1b[2J\u202eevil",
        task_definitions="not a list",
    )
    body = json.dumps(definitions + [hostile]).encode()
    server = servers(lambda h: _json(h, body))
    out = tmp_path / "export"
    result = CliRunner().invoke(
        export_command,
        ["--url", server.url, "--out", str(out), "--history-days", "0", "-q"],
    )
    assert result.exit_code == 1, result.output
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in result.output
    warnings = [l for l in result.output.splitlines() if l.startswith("warning: ")]
    (line,) = warnings
    assert "'x\\x1b]0;pwned\\x07\\r\\x1b[2J\\u202eevil'" in line, line
    assert len(list((out / "process_definitions").glob("*.json"))) == 29  # as is


def test_any_wrong_value_from_the_server_loses_nothing_else(servers, tmp_path_factory):
    """The estate's listing with one definition holding any JSON value anywhere: export
    ends with exit 0 or 1 (never a traceback), every valid definition is exported, and
    each warning is one line."""
    from click.testing import CliRunner
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from migrate.extract.command import export_command
    from tests.sundial_strategies import json_values, replaced, value_paths

    listing, _ = _estate_and_one_run()
    estate = json.loads(listing)
    served = {"body": listing}
    server = servers(lambda h: _json(h, served["body"]))

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(st.data())
    def check(data):
        victim = data.draw(st.integers(0, len(estate) - 1))
        path = data.draw(st.sampled_from(list(value_paths(estate[victim]))))
        bad = replaced(estate[victim], path, data.draw(json_values()))
        definitions = estate[:victim] + [bad] + estate[victim + 1 :]
        served["body"] = json.dumps(definitions, allow_nan=True).encode()
        out = tmp_path_factory.mktemp("export") / "out"
        result = CliRunner().invoke(
            export_command,
            ["--url", server.url, "--out", str(out), "--history-days", "0", "-q"],
        )
        assert result.exit_code in (0, 1), (result.output, result.exception)
        assert "Traceback" not in result.output
        exported = {
            json.loads(p.read_text())["process_definition_name"]
            for p in (out / "process_definitions").glob("*.json")
            if isinstance(json.loads(p.read_text()), dict)
        }
        others = {
            d["process_definition_name"] for i, d in enumerate(estate) if i != victim
        }
        assert others <= exported
        for line in result.output.splitlines():
            assert line.startswith("warning: "), line

    check()


@pytest.mark.parametrize(
    "value, why",
    [
        ("9" * 5000, "value has 5000 digits"),
        ("[" * 5000 + "]" * 5000, "nested too deeply to read"),
    ],
)
def test_json_python_cannot_hold_is_that_definition_only(servers, tmp_path, value, why):
    """One definition of the listing holds an integer of 5,000 digits, or nesting 5,000
    deep (valid JSON that Python will not build): that definition is one warning and is
    exported as its text; the others are exported; convert then says the same of it."""
    from click.testing import CliRunner

    from migrate.extract.command import export_command
    from migrate.pipeline import convert

    listing, _ = _estate_and_one_run()
    text = listing.decode()
    first = json.loads(listing)[0]["process_definition_name"]
    marker = f'"process_definition_name": {json.dumps(first)}'
    assert marker in text
    body = text.replace(marker, f'"n": {value}, {marker}', 1).encode()
    server = servers(lambda h: _json(h, body))
    out = tmp_path / "export"
    result = CliRunner().invoke(
        export_command,
        ["--url", server.url, "--out", str(out), "--history-days", "0", "-q"],
    )
    assert result.exit_code == 1, (result.output, result.exception)
    (line,) = result.output.strip().splitlines()
    assert line.startswith("warning: invalid definition (exported as is): ")
    assert f"process {first!r}" in line and why in line
    files = sorted((out / "process_definitions").glob("*.json"))
    assert len(files) == 28
    kept = [f for f in files if value[:100] in f.read_text()]
    assert len(kept) == 1  # its text, as the server sent it
    converted = convert([out], tmp_path / "out")
    assert [Path(p.file).name for p in converted.problems] == [kept[0].name]
    assert len(converted.processes) == 27
