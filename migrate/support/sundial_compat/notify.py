"""Sundial's notifications as a DAG callback: no task of their own.

Airflow calls ``on_success_callback`` / ``on_failure_callback`` of the DAG once a run has
ended (in the DAG processor), with the run's final state, which the generated DAGs make
Sundial's outcome.  The callback compares it with the previous runs, as Sundial did:

- email per ``notify_when``: success after success -> only ``always``; failure after
  failure -> ``always`` and ``on_state_change_and_failures``; anything else (a change, or
  the first run) -> everyone except ``never``;
- PagerDuty: an incident when the last ``num_consecutive_failures`` runs all failed (and
  on every further failure), to the connection's host (Sundial's ``api_url``);
- SNS (a mapping setting): the same two rules publish to a topic as well, or instead.

Previous runs are those before this one in logical-date order (scheduled runs, and
manual runs triggered with a logical date).
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from sundial_compat.airflow_api import previous_dag_run, task_states

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
NOTIFY_WHEN = (
    "always",
    "on_failure",
    "on_state_change",
    "on_state_change_and_failures",
    "never",
)


def email_recipients(
    emails: list[dict], outcome: str, previous: str | None
) -> list[dict]:
    """Sundial's notify_when rule: whom to tell when a run ends with ``outcome``."""
    if previous == outcome == "succeeded":
        allowed = {"always"}
    elif previous == outcome == "failed":
        allowed = {"always", "on_state_change_and_failures"}
    else:
        allowed = set(NOTIFY_WHEN) - {"never"}
    return [e for e in emails if e["notify_when"] in allowed]


def failure_streak(outcome: str, previous: list[str]) -> int:
    """Consecutive failed runs ending with this one (``previous``: newest first)."""
    if outcome != "failed":
        return 0
    streak = 1
    for earlier in previous:
        if earlier != "failed":
            break
        streak += 1
    return streak


def previous_outcomes(context, depth: int) -> list[str]:
    """The outcomes of up to ``depth`` runs before this one, newest first.  The first
    comes from the context's task instance (``ti.get_previous_dagrun()``, public); older
    ones, which only PagerDuty's streak needs, from ``airflow_api.previous_dag_run``."""
    dag_id = context["dag"].dag_id
    ti = context.get("ti")
    logical_date = getattr(context.get("dag_run"), "logical_date", None)
    found: list[str] = []
    while logical_date is not None and len(found) < depth:
        if not found and ti is not None:
            run = ti.get_previous_dagrun()
        else:
            run = previous_dag_run(dag_id, logical_date)
        if run is None:
            break
        state = getattr(run.state, "value", run.state)  # an enum of the task SDK
        found.append("failed" if state == "failed" else "succeeded")
        logical_date = run.logical_date
    return found


class SundialNotifications:
    """The DAG's ``on_success_callback`` and ``on_failure_callback`` (one instance)."""

    def __init__(
        self,
        *,
        process_name: str,
        emails: list[dict] | None = None,
        smtp_conn_id: str = "smtp_default",
        email_from: str | None = None,
        pagerduty: list[dict] | None = None,
        sns: dict | None = None,
        sns_only: bool = False,
    ):
        self.process_name = process_name
        self.emails = emails or []
        self.smtp_conn_id = smtp_conn_id
        self.email_from = email_from
        self.pagerduty = pagerduty or []
        # {"topic_arn", "aws_conn_id", "region_name"}: the same rules also (or, with
        # sns_only, instead) publish to an SNS topic
        self.sns = sns
        self.sns_only = sns_only

    def __call__(self, context) -> None:
        import logging

        log = logging.getLogger("airflow.task")
        dag_id = context["dag"].dag_id
        outcome = "succeeded" if context.get("reason") == "success" else "failed"
        depth = max([1, *(p["num_consecutive_failures"] for p in self.pagerduty)])
        previous = previous_outcomes(context, depth)
        streak = failure_streak(outcome, previous)
        log.info(
            "Sundial outcome: %s (previous runs: %s, failure streak: %s)",
            outcome,
            previous,
            streak,
        )
        last = previous[0] if previous else None
        recipients = email_recipients(self.emails, outcome, last)
        if recipients and self.sns:
            subject, text = self._summary(outcome, context)
            self._publish(
                subject,
                text
                + "\nSundial would have emailed: "
                + ", ".join(r["email"] for r in recipients),
            )
        if recipients and not self.sns_only:
            self._email(outcome, last, dag_id, context)
        for pager in self.pagerduty:
            if streak and streak >= pager["num_consecutive_failures"]:
                if self.sns:
                    self._publish(
                        f"Sundial alert: {self.process_name} failed {streak} time(s) in a row",
                        f"The Sundial Job {self.process_name}, has failed at least "
                        f"{streak} time(s) in a row.",
                    )
                if not self.sns_only:
                    self._page(pager, streak)

    def _summary(self, outcome: str, context) -> tuple[str, str]:
        subject = f"Process {outcome}: {self.process_name}"
        ti = context.get("ti")
        states = task_states(ti, context["run_id"]) if ti is not None else {}
        lines = [subject, ""] + [
            f"{t}: {s}" for t, s in sorted(states.items()) if t != "sundial_run_outcome"
        ]
        return subject, "\n".join(lines) + "\n"

    def _publish(self, subject: str, message: str) -> None:
        """One message to the SNS topic, through the amazon provider's SnsHook.  SNS
        takes a subject of at most 100 printable ASCII characters, on one line."""
        from airflow.providers.amazon.aws.hooks.sns import SnsHook

        shown = "".join(c if " " <= c <= "~" else "?" for c in subject)
        hook = SnsHook(
            aws_conn_id=self.sns.get("aws_conn_id"),
            region_name=self.sns.get("region_name"),
        )
        hook.publish_to_target(
            target_arn=self.sns["topic_arn"], message=message, subject=shown[:100]
        )

    def _email(self, outcome: str, previous: str | None, dag_id: str, context) -> None:
        recipients = email_recipients(self.emails, outcome, previous)
        if not recipients or not self.smtp_conn_id:
            return
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        subject = f"Process {outcome}: {self.process_name}"
        ti = context.get("ti")  # absent when the run ended with no task instance
        states = task_states(ti, context["run_id"]) if ti is not None else {}
        rows = "".join(
            f"<tr><td>{html.escape(t)}</td><td>{html.escape(s)}</td></tr>"
            for t, s in sorted(states.items())
            if t != "sundial_run_outcome"
        )
        body = f"<h3>{html.escape(subject)}</h3><table>{rows}</table>"
        with SmtpHook(smtp_conn_id=self.smtp_conn_id) as hook:
            hook.send_email_smtp(
                to=[r["email"] for r in recipients],
                subject=subject,
                html_content=body,
                from_email=self.email_from,
            )

    def _page(self, pager: dict, streak: int) -> None:
        import requests
        from airflow.providers.pagerduty.hooks.pagerduty_events import (
            PagerdutyEventsHook,
            prepare_event_data,
        )

        hook = PagerdutyEventsHook(pagerduty_events_conn_id=pager["conn_id"])
        event = prepare_event_data(
            summary=f"The Sundial Job {self.process_name}, has failed at least {streak} time(s) in a row.",
            severity="error",
            source="Sundial",
            action="trigger",
            action_key_name="event_action",
        )
        event["routing_key"] = hook.integration_key
        # Sundial posted to the notification's api_url, which the connection's host holds;
        # PagerdutyEventsHook.send_event ignores the host (always events.pagerduty.com).
        base_url = events_base_url(hook.get_connection(pager["conn_id"]))
        response = requests.post(
            (base_url or PAGERDUTY_EVENTS_URL) + "/v2/enqueue", json=event, timeout=30
        )
        response.raise_for_status()


def events_base_url(conn) -> str | None:
    """The Events API base URL from a connection's host (and port); None: PagerDuty's."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return None
    if "://" not in host:
        host = "https://" + host
    if conn.port and urlsplit(host).port is None:
        host += f":{conn.port}"
    return host
