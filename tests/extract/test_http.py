"""The HTTP client against injected faults: what is retried, what becomes one clear line."""

from __future__ import annotations

import socket
import time

import pytest

from migrate.extract.http import Client, ExportError, HttpOptions
from tests.extract.conftest import FAST

LIST = "/process_definitions/"


def client(server, **changes) -> Client:
    options = HttpOptions(**{**FAST.__dict__, **changes})
    return Client(server.url, options)


def definition_requests(server) -> int:
    return sum(1 for m, p, _ in server.log if p.startswith("/api/process_definitions/"))


def test_500s_are_retried(server):
    server.inject("status", times=3, status=500)
    assert len(client(server).get_json(LIST)) == 28
    assert definition_requests(server) == 4


def test_too_many_500s_give_one_line(server):
    server.inject("status", times=None, status=503)
    with pytest.raises(ExportError) as err:
        client(server, retries=2).get_json(LIST)
    assert "HTTP 503 after 3 attempts" in str(err.value)
    assert "\n" not in str(err.value)


def test_429_retry_after_is_honoured(server):
    server.inject("status", times=1, status=429, retry_after=1)
    started = time.monotonic()
    assert len(client(server).get_json(LIST)) == 28
    assert time.monotonic() - started >= 1.0
    assert definition_requests(server) == 2


def test_dropped_connection_is_retried(server):
    server.inject("drop", times=2)
    assert len(client(server).get_json(LIST)) == 28


def test_latency_within_timeout_is_fine_beyond_it_is_an_error(server):
    server.inject("latency", times=1, seconds=0.3)
    assert len(client(server, timeout=2).get_json(LIST)) == 28
    server.inject("latency", times=None, seconds=1.5)
    with pytest.raises(ExportError) as err:
        client(server, timeout=0.5, retries=1).get_json(LIST)
    assert "no answer within 0.5s" in str(err.value)


def test_truncated_body_once_is_retried(server):
    server.inject("truncate", times=1)
    assert len(client(server).get_json(LIST)) == 28


def test_truncated_body_gives_a_clear_error(server):
    server.inject("truncate", times=None)
    with pytest.raises(ExportError) as err:
        client(server, retries=1).get_json(LIST)
    message = str(err.value)
    assert "cut off" in message and "\n" not in message


def test_401_names_the_token(server):
    server.token = "s3cret-token-value"
    with pytest.raises(ExportError) as err:
        client(server).get_json(LIST)
    assert "401 unauthorized" in str(err.value) and "--token-env" in str(err.value)


def test_token_is_sent_and_never_shown(server, monkeypatch):
    server.token = "s3cret-token-value"
    monkeypatch.setenv("SUNDIAL_TOKEN", "s3cret-token-value")
    c = client(server, token_env="SUNDIAL_TOKEN")
    assert len(c.get_json(LIST)) == 28
    assert "s3cret" not in repr(c)
    monkeypatch.setenv("SUNDIAL_TOKEN", "wrong-s3cret-token")
    with pytest.raises(ExportError) as err:
        client(server, token_env="SUNDIAL_TOKEN").get_json(LIST)
    assert "s3cret" not in str(err.value) and "SUNDIAL_TOKEN" in str(err.value)


def test_missing_token_variable(server, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(ExportError, match="NO_SUCH_TOKEN_VAR"):
        client(server, token_env="NO_SUCH_TOKEN_VAR")


def test_404_says_check_the_url(server):
    with pytest.raises(ExportError) as err:
        client(server).get_json("/process_definitions/no-such-process")
    assert "404" in str(err.value) and "--url" in str(err.value)


def test_non_json_body(server):
    server.inject("non_json", times=1)
    with pytest.raises(ExportError) as err:
        client(server).get_json(LIST)
    assert "expected JSON" in str(err.value) and "text/html" in str(err.value)


def test_extra_headers_are_sent(server):
    client(server, headers={"X-Tenant": "acme"}).get_json(LIST)
    assert server.log[-1][2].get("X-Tenant") == "acme"


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = HttpOptions(**{**FAST.__dict__, "retries": 1})
    with pytest.raises(ExportError) as err:
        Client(f"http://127.0.0.1:{port}", options).get_json(LIST)
    assert "connection refused" in str(err.value)


def test_tls_verification_is_on_by_default():
    assert Client("https://sundial.example.com").session.verify is True
    with pytest.raises(ExportError, match="--ca-bundle"):
        Client("https://x.example.com", HttpOptions(ca_bundle="/no/such/ca.pem"))


def test_each_thread_has_its_own_session_with_the_same_settings(server, monkeypatch):
    import threading

    monkeypatch.setenv("SUNDIAL_TOKEN", "tok")
    server.token = "tok"
    c = client(server, token_env="SUNDIAL_TOKEN", headers={"X-Tenant": "acme"})
    sessions = {}

    def fetch(i):
        assert len(c.get_json(LIST)) == 28
        sessions[i] = c._session()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in sessions.values()} | {id(c.session)}) == 4
    assert all(h.get("X-Tenant") == "acme" for _, _, h in server.log)
    assert all(h.get("Authorization") == "Bearer tok" for _, _, h in server.log)
    assert c.requests_made == 3
    c.close()
    with pytest.raises(ExportError, match="cancelled"):
        c.get_json(LIST)


def test_cancel_cuts_a_backoff_short(server):
    import threading

    server.inject("status", times=None, status=503)
    c = client(server, backoff_base=5, backoff_max=5, retries=3)
    c.sleep = time.sleep  # the real, cancellable wait
    threading.Timer(0.3, c.cancel).start()
    started = time.monotonic()
    with pytest.raises(ExportError, match="cancelled"):
        c.get_json(LIST)
    assert time.monotonic() - started < 3
