"""Sundial's run semantics on top of Airflow's: optional upstreams, run outcome, notifications."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

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
    """Sundial's notify_when rule: whom to tell when a run ends with ``outcome``.

    success after success -> only ``always``; failure after failure -> ``always`` and
    ``on_state_change_and_failures``; anything else (a change, or a first run) -> everyone
    except ``never``."""
    if previous == outcome == "succeeded":
        allowed = {"always"}
    elif previous == outcome == "failed":
        allowed = {"always", "on_state_change_and_failures"}
    else:
        allowed = set(NOTIFY_WHEN) - {"never"}
    return [e for e in emails if e["notify_when"] in allowed]


def _run_states(context) -> dict[str, str]:
    ti = context["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    return {task: str(state) for task, state in (states.get(ti.run_id) or {}).items()}


class SundialOptionalUpstreamsOperator(BaseOperator):
    """Join in front of a task's optional upstreams (trigger rule ALL_DONE).

    Sundial released an optional dependant once the upstream had finished an attempt,
    success or failure; an upstream that never ran (its own required upstream failed) never
    releases it.  So this join succeeds when every optional upstream ran, and skips (so the
    dependant never runs) when one of them never started."""

    ui_color = "#f0f0f0"

    def __init__(self, *, upstream_entries: dict[str, list[str]], **kwargs):
        super().__init__(**kwargs)
        self.upstream_entries = upstream_entries

    def execute(self, context):
        states = _run_states(context)
        never_ran = [
            name
            for name, entries in self.upstream_entries.items()
            if all(states.get(e) in ("upstream_failed", "skipped") for e in entries)
        ]
        if never_ran:
            raise AirflowSkipException(
                f"optional upstream(s) never ran: {', '.join(sorted(never_ran))}"
            )


class SundialRunOutcomeOperator(BaseOperator):
    """The run's outcome as Sundial judged it, and its notifications.

    Runs last (ALL_DONE).  The run failed if any task's last attempt failed; this task then
    fails too, so the DAG run's state is Sundial's.  Emails follow ``notify_when``; PagerDuty
    pages when the last ``num_consecutive_failures`` runs all failed."""

    ui_color = "#fde7c4"

    def __init__(
        self,
        *,
        process_name: str,
        emails: list[dict] | None = None,
        smtp_conn_id: str = "smtp_default",
        email_from: str | None = None,
        pagerduty: list[dict] | None = None,
        **kwargs,
    ):
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.process_name = process_name
        self.emails = emails or []
        self.smtp_conn_id = smtp_conn_id
        self.email_from = email_from
        self.pagerduty = pagerduty or []

    def execute(self, context):
        ti = context["ti"]
        states = _run_states(context)
        failed = sorted(
            t for t, s in states.items() if s == "failed" and t != self.task_id
        )
        outcome = "failed" if failed else "succeeded"
        # map_indexes=-1: the single latest value (by logical date) from a prior run.
        # Without it Airflow 3 returns a list of every prior run's value once there are two.
        previous = ti.xcom_pull(
            task_ids=self.task_id,
            key="sundial_outcome",
            include_prior_dates=True,
            map_indexes=-1,
        )
        streak = (
            ti.xcom_pull(
                task_ids=self.task_id,
                key="sundial_failure_streak",
                include_prior_dates=True,
                map_indexes=-1,
            )
            or 0
        )
        streak = streak + 1 if outcome == "failed" else 0
        ti.xcom_push(key="sundial_outcome", value=outcome)
        ti.xcom_push(key="sundial_failure_streak", value=streak)
        self.log.info(
            "Sundial outcome: %s (previous: %s, failure streak: %s)",
            outcome,
            previous,
            streak,
        )
        self._email(outcome, previous, states)
        for pager in self.pagerduty:
            if outcome == "failed" and streak >= pager["num_consecutive_failures"]:
                self._page(pager, streak)
        if failed:
            raise AirflowFailException(
                f"Sundial run failed: task(s) {', '.join(failed)} failed"
            )

    def _email(
        self, outcome: str, previous: str | None, states: dict[str, str]
    ) -> None:
        recipients = email_recipients(self.emails, outcome, previous)
        if not recipients:
            return
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        subject = f"Process {outcome}: {self.process_name}"
        rows = "".join(
            f"<tr><td>{html.escape(t)}</td><td>{html.escape(s)}</td></tr>"
            for t, s in sorted(states.items())
            if t != self.task_id
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
