"""A 127.0.0.1 HTTP server for hostile-server tests: each request is answered by a
function of the handler (redirect anywhere, lie, trickle, flood); every request's path
and headers are recorded.  Stopped by the ``servers`` fixture (tests/conftest.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server:
    """A 127.0.0.1 server answering every request with ``behave(handler)`` (the POST
    body is ``handler.body``); ``seen`` lists (method, path, headers) of each."""

    def __init__(self, behave):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                seen.append((self.command, self.path, dict(self.headers)))
                behave(self)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length)
                seen.append((self.command, self.path, dict(self.headers)))
                behave(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def json_answer(handler, body=b"[]", status=200):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect(handler, location, status=307):
    handler.send_response(status)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()
