"""The export client against servers that lie: a redirect to another origin (the token
and --header values must not follow it), a redirect loop, a compression bomb, a body
trickled a byte at a time.  Each is one ExportError line, in bounded time and memory."""

from __future__ import annotations

import gzip
import re
import time

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
