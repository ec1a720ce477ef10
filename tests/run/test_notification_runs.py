"""Sundial's notifications from real consecutive runs of one generated DAG (one AIRFLOW_HOME,
increasing logical dates): email per notify_when through a real SMTP server on loopback
(aiosmtpd), PagerDuty events posted to a local HTTP sink after num_consecutive_failures
failed runs.  Expectations: Sundial's notification rules (tests/run/sundial_rules.py).
"""

from __future__ import annotations

import json
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.run.harness import RUN_FIXTURES, free_port
from tests.run.sundial_rules import email_recipients, load_processes, pages

pytestmark = pytest.mark.slow

PROCESS = load_processes(RUN_FIXTURES / "run_notifications.json")["run-notify"]
# The outcome the test gives each consecutive run (the script fails when told to).
OUTCOMES = [
    "succeeded",  # first run: everyone but `never`
    "succeeded",  # success after success: `always` only
    "failed",  # state change
    "failed",  # failure after failure; 2 in a row: page
    "failed",  # the last 2 runs failed again: page again
    "succeeded",  # recovery
    "failed",  # a single failure after a success: no page (the streak restarted)
]


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


@pytest.fixture(scope="module")
def sinks():
    smtp, pager = SmtpSink(), PagerDutySink()
    try:
        yield smtp, pager
    finally:
        smtp.stop()
        pager.stop()


@pytest.fixture(scope="module")
def notify_runs(sinks, airflow_session, parity, run_conversion):
    """The consecutive runs, with what each one sent."""
    smtp, pager = sinks
    out, _ = run_conversion
    entry = parity["run-notify"]
    (pager_conn,) = [
        c["id"]
        for c in entry["to_create"]
        if c["kind"] == "connection" and "PagerDuty" in c["purpose"]
    ]
    (service_key,) = [
        n["pagerduty"]["service_key"]
        for n in PROCESS["notifications"]
        if "pagerduty" in n
    ]
    env = {
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp.port,
                "extra": {
                    "disable_ssl": True,
                    "disable_tls": True,
                    "from_email": "airflow@example.com",
                    "retry_limit": 0,
                    "timeout": 10,
                },
            }
        ),
        # as the report says: the service key in the password, Sundial's api_url (here:
        # the local sink standing in for it) in the host
        f"AIRFLOW_CONN_{pager_conn.upper()}": json.dumps(
            {
                "conn_type": "pagerduty_events",
                "password": service_key,
                "host": pager.url,
            }
        ),
    }
    home = airflow_session.home("notify", env=env)
    runs = []
    for day, outcome in enumerate(OUTCOMES, start=1):
        result = home.dags_test(
            entry["dag_id"],
            f"2024-04-{day:02d}",
            dag_file=out / entry["file"],
            prepare=lambda folder, o=outcome: (folder / "outcome").write_text(
                "fail" if o == "failed" else "ok"
            ),
        )
        runs.append((outcome, result, smtp.take(), pager.take()))
    return runs


def test_email_notify_when(notify_runs):
    """first run, success after success, failure after failure, recovery: who is told."""
    previous = None
    for outcome, result, mails, _ in notify_runs:
        context = result.describe()
        assert result.state == ("failed" if outcome == "failed" else "success"), context
        wanted = email_recipients(PROCESS, outcome, previous)
        got = [rcpt for mail in mails for rcpt in mail["to"]]
        assert sorted(got) == sorted(wanted), (outcome, previous, got, context)
        for mail in mails:
            subject = mail["message"]["Subject"]
            assert PROCESS["process_definition_name"] in subject
            assert outcome in subject
        previous = outcome
    # every notify_when class was exercised: always alone, and never never
    assert any(
        len(m) and {r for x in m for r in x["to"]} == {"always@example.com"}
        for _, _, m, _ in notify_runs
    )


def test_pagerduty_after_consecutive_failures(notify_runs):
    """An event is triggered when the last num_consecutive_failures runs all failed."""
    history = []
    paged_runs = 0
    for outcome, result, _, events in notify_runs:
        history.append(outcome)
        wanted = pages(PROCESS, history)
        assert [e["body"].get("routing_key") for e in events] == wanted, (
            history,
            events,
            result.describe(),
        )
        for event in events:
            assert event["path"].endswith("/enqueue")
            assert event["body"]["event_action"] == "trigger"
            assert (
                PROCESS["process_definition_name"]
                in event["body"]["payload"]["summary"]
            )
        paged_runs += bool(events)
    assert paged_runs == 2
