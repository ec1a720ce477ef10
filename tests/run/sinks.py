"""Local stand-ins for the services Sundial notified: an SMTP server (aiosmtpd) and an
HTTP sink that accepts what PagerDuty's Events API v2 accepts.  Both on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.run.harness import free_port


class SmtpSink:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "message": message_from_bytes(envelope.original_content or b""),
                }
            )
        return "250 OK"

    def take(self) -> list[dict]:
        with self.lock:
            taken, self.messages = self.messages, []
        return taken

    def stop(self):
        self.controller.stop()

    def airflow_connection(self) -> dict[str, str]:
        """``smtp_default`` pointed at this server (env form)."""
        return {
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": self.port,
                    "extra": {
                        "disable_ssl": True,
                        "disable_tls": True,
                        "from_email": "airflow@example.com",
                        "retry_limit": 0,
                        "timeout": 10,
                    },
                }
            )
        }


class PagerDutySink:
    """Accepts what PagerDuty's Events API v2 accepts and keeps every request."""

    def __init__(self):
        events = self.events = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                events.append({"path": self.path, "body": json.loads(body or b"{}")})
                reply = json.dumps(
                    {
                        "status": "success",
                        "message": "Event processed",
                        "dedup_key": "k",
                    }
                ).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take(self) -> list[dict]:
        taken = list(self.events)
        self.events.clear()
        return taken

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def airflow_connection(self, conn_id: str, service_key: str) -> dict[str, str]:
        """As the report says: the service key in the password, Sundial's api_url (here:
        this sink, standing in for it) in the host."""
        return {
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(
                {
                    "conn_type": "pagerduty_events",
                    "password": service_key,
                    "host": self.url,
                }
            )
        }
