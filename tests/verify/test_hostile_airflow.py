"""`migrate verify` against an "Airflow" that lies: the login redirected to another
origin (the password must not follow), a redirect loop, malformed answers, endless
paging, a token with a line break.  Each is one line and exit 2 ("could not run"), never
a traceback or exit 1 ("differences")."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from migrate.verify.command import verify_command
from tests.conftest import ESTATE, ESTATE_OUT
from tests.hostile_server import json_answer, redirect

PASSWORD = "hostile-test-password"


def verify(url, *extra, env=None):
    result = CliRunner().invoke(
        verify_command,
        [str(ESTATE), "--report", str(ESTATE_OUT), "--airflow-url", url, *extra],
        env={"AF_PASSWORD": PASSWORD, **(env or {})},
    )
    return result.exit_code, result.stdout, result.stderr


def airflow(routes):
    """A handler answering /api/v2/version as Airflow 3.3.2, the rest from ``routes``:
    path prefix -> function(handler)."""

    def behave(h):
        path = h.path.split("?")[0]
        for prefix, answer in routes.items():
            if path.startswith(prefix):
                return answer(h)
        if path == "/api/v2/version":
            return json_answer(h, {"version": "3.3.2"})
        return json_answer(h, {"detail": "not found"}, 404)

    return behave


def test_the_login_is_not_sent_to_another_origin(servers, converted_estate):
    elsewhere = servers(lambda h: json_answer(h, {"access_token": "x"}))
    origin = servers(
        airflow({"/auth/token": lambda h: redirect(h, elsewhere.url + "/auth/token")})
    )
    code, out, err = verify(
        origin.url, "--username", "admin", "--password-env", "AF_PASSWORD"
    )
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert "another origin: not followed" in line and elsewhere.url in line
    assert elsewhere.seen == [] and PASSWORD not in err


def test_a_redirect_loop_is_one_line(servers, converted_estate):
    server = servers(airflow({"/api/v2/dags": lambda h: redirect(h, h.path)}))
    code, out, err = verify(server.url)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert "more than 5 redirects" in line


@pytest.mark.parametrize(
    "version, dags, why",
    [
        (7, None, "not an Airflow 3 API server"),
        (["3.3.2"], None, "not an Airflow 3 API server"),
        ("3.3.2", {"dags": [], "total_entries": "many"}, "total_entries is 'many'"),
        ("3.3.2", {"dags": "none", "total_entries": 0}, "no 'dags' list"),
    ],
)
def test_malformed_answers_are_one_line_exit_2(
    servers, converted_estate, version, dags, why
):
    routes = {"/api/v2/version": lambda h: json_answer(h, {"version": version})}
    if dags is not None:
        routes["/api/v2/dags"] = lambda h: json_answer(h, dags)
    server = servers(airflow(routes))
    code, out, err = verify(server.url)
    assert code == 2 and out == "", err
    (line,) = err.splitlines()
    assert why in line


def test_endless_paging_stops(servers, converted_estate, monkeypatch):
    from migrate.verify import client

    monkeypatch.setattr(client, "MAX_ITEMS", 500)
    page = {"dags": [{"dag_id": "x"}] * 100, "total_entries": 10**12}
    server = servers(airflow({"/api/v2/dags": lambda h: json_answer(h, page)}))
    code, out, err = verify(server.url)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert "more than 500 entries (total_entries 1000000000000)" in line
    pages = [s for s in server.seen if s[1].startswith("/api/v2/dags?order_by")]
    assert len(pages) == 5  # 500 entries, 100 a page, then it stops


def test_a_token_with_a_line_break_is_not_sent(servers, converted_estate):
    server = servers(airflow({}))
    code, out, err = verify(
        server.url, "--token-env", "AF_TOKEN", env={"AF_TOKEN": "abc\r\nX-Evil: 1"}
    )
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert "control characters" in line and "X-Evil" not in line
    assert all("X-Evil" not in json.dumps(h) for _, _, h in server.seen)


def test_names_and_messages_from_airflow_cannot_rewrite_the_terminal(
    servers, converted_estate
):
    """A DAG id and an import error holding ESC/CSI/OSC sequences, a carriage return and
    a bidi override: every character shows as its escape in the table, and the JSON
    keeps the same data with those characters escaped."""
    evil = "evil\x1b[2J\r\u202edag"
    trace = "Traceback\x1b]0;pwned\x07\r\x1b[1Aboom"
    routes = {
        "/api/v2/dags": lambda h: json_answer(
            h,
            {
                "dags": [
                    {
                        "dag_id": evil,
                        "is_paused": False,
                        "fileloc": "/dags/x.py",
                        "timetable_summary": None,
                        "next_dagrun_run_after": None,
                        "has_import_errors": False,
                    }
                ],
                "total_entries": 1,
            },
        ),
        "/api/v2/importErrors": lambda h: json_answer(
            h,
            {
                "import_errors": [
                    {
                        "import_error_id": 1,
                        "filename": "/dags/x.py",
                        "stack_trace": trace,
                    }
                ],
                "total_entries": 1,
            },
        ),
    }
    server = servers(airflow(routes))
    code, out, err = verify(server.url)
    assert code == 1, err
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in out + err
    assert "evil\\x1b[2J\\x0d\\u202edag" in out
    code, out, err = verify(server.url, "--json")
    assert code == 1
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in out
    assert json.dumps(evil) in json.dumps(json.loads(out))  # the very same name


def test_a_compression_bomb_and_a_trickle_are_bounded(servers, converted_estate):
    """An answer that inflates past verify's cap, and one trickled a byte at a time
    past --timeout: each is one line, exit 2, read no further."""
    import gzip
    import time

    from migrate.verify.client import MAX_RESPONSE_BYTES

    bomb = gzip.compress(b" " * (MAX_RESPONSE_BYTES + 1024 * 1024), compresslevel=9)

    def inflate(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(bomb)))
        h.end_headers()
        h.wfile.write(bomb)

    def trickle(h):
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

    for answer, why in (
        (inflate, "larger than 64 MiB decoded"),
        (trickle, "longer than --timeout 1s"),
    ):
        server = servers(airflow({"/api/v2/dags": answer}))
        started = time.monotonic()
        code, out, err = verify(server.url, "--timeout", "1")
        assert code == 2 and out == ""
        (line,) = err.splitlines()
        assert why in line and "GET /api/v2/dags" in line, line
        assert time.monotonic() - started < 30  # not the trickle's 100 s
