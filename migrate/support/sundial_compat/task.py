"""What every operator standing for one Sundial task shares: Sundial's dependency rule
where Airflow's trigger rules cannot say it, and the bound on waiting for AWS.

A Sundial task with optional dependencies runs once every upstream has finished (the DAG
gives it trigger rule ALL_DONE), but only if its required upstreams succeeded and its
optional ones ran at all.  Airflow has no trigger rule that treats upstreams differently,
so the operator checks, before it does anything: otherwise it is skipped, as Sundial never
ran it.  No extra task instance is needed for this.

Sundial's backoff before Airflow 3.3 (no ``RetryPolicy``, and a jittered exponential
backoff): the DAG retries after the shortest of Sundial's delays (``retry_delay``) and the
operator, when a retry starts, defers for the rest of ``base * exponent ** n`` (a
``DateTimeTrigger`` in the triggerer: no worker slot is held), then runs the attempt.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sundial_compat.airflow_api import TRIGGER_FAIL_REPR, AirflowSkipException

NEVER_RAN = ("upstream_failed", "skipped")


class SundialTask:
    """Mixin (first base) for the sundial_compat operators.

    ``required_upstreams`` / ``optional_upstreams``: Airflow task ids, given only when the
    task has optional upstreams (with required ones only, ALL_SUCCESS is Sundial's rule).
    ``sundial_backoff``: ``{"base_seconds", "exponent"}``, given only for an Airflow
    without ``RetryPolicy``: the rest of Sundial's delay is waited when a retry starts.
    Each operator's ``execute`` starts with ``self.before_attempt(context)``.
    """

    def __init__(
        self,
        *,
        required_upstreams: list[str] | None = None,
        optional_upstreams: list[str] | None = None,
        sundial_backoff: dict | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.required_upstreams = list(required_upstreams or ())
        self.optional_upstreams = list(optional_upstreams or ())
        self.sundial_backoff = dict(sundial_backoff) if sundial_backoff else None
        self._backoff_waited = False

    def before_attempt(self, context) -> None:
        """Skip as Sundial would have (``check_upstreams``), then wait out the rest of
        Sundial's backoff (deferred) when this attempt is a retry."""
        self.check_upstreams(context)
        left = 0 if self._backoff_waited else self.backoff_left(context)
        if left > 0:
            from airflow.providers.standard.triggers.temporal import DateTimeTrigger

            self.log.info(
                "Sundial's backoff: waiting %s s more before this attempt (deferred)",
                left,
            )
            moment = datetime.now(timezone.utc) + timedelta(seconds=left)
            self.defer(
                trigger=DateTimeTrigger(moment=moment), method_name="after_backoff"
            )

    def backoff_left(self, context) -> float:
        """Seconds of Sundial's delay before this attempt that Airflow's ``retry_delay``
        did not already wait."""
        if not self.sundial_backoff:
            return 0
        attempts_so_far = (getattr(context["ti"], "try_number", 1) or 1) - 1
        if attempts_so_far < 1:
            return 0
        delay = int(
            self.sundial_backoff["base_seconds"]
            * self.sundial_backoff["exponent"] ** attempts_so_far
        )
        waited = self.retry_delay.total_seconds() if self.retry_delay else 0
        return max(0.0, delay - waited)

    def after_backoff(self, context, event=None):
        """The attempt, once the backoff's trigger fired."""
        self._backoff_waited = True
        return self.execute(context)

    def check_upstreams(self, context) -> None:
        if not self.optional_upstreams:
            return
        ti = context["ti"]
        found = ti.get_task_states(
            dag_id=ti.dag_id,
            task_ids=self.required_upstreams + self.optional_upstreams,
            run_ids=[ti.run_id],
        )
        states = {
            t: str(getattr(s, "value", s))
            for t, s in (found.get(ti.run_id) or {}).items()
        }
        failed = [t for t in self.required_upstreams if states.get(t) != "success"]
        if failed:
            raise AirflowSkipException(
                "required upstream(s) did not succeed: "
                + ", ".join(f"{t} ({states.get(t)})" for t in failed)
                + "; Sundial never ran this task"
            )
        never = [t for t in self.optional_upstreams if states.get(t) in NEVER_RAN]
        if never:
            raise AirflowSkipException(
                f"optional upstream(s) never ran: {', '.join(never)}; Sundial left this "
                "task waiting (the run never ended)"
            )


class StopsItsJob:
    """Mixin for a deferrable AWS operator: when the attempt ends without success while
    deferred (its trigger gave up, or the scheduler's deferral timeout fired) the job it
    started is stopped, as Sundial killed a task that outlived ``max_runtime_seconds``.
    ``stop_job(context, event, why)`` stops it; ``event`` is the trigger's, if any."""

    def execute_complete(self, context, event=None):
        if not event or event.get("status") != "success":
            why = f"the wait ended: {(event or {}).get('message')}"
            self.stop_job(context, event or {}, why)
        return super().execute_complete(context, event)

    def resume_execution(self, next_method, next_kwargs, context):
        if (
            next_method == TRIGGER_FAIL_REPR
        ):  # the deferral timed out, or its trigger died
            why = f"deferral ended: {(next_kwargs or {}).get('error')}"
            self.stop_job(context, {}, why)
        return super().resume_execution(next_method, next_kwargs, context)


def attempts_within(timeout: timedelta | None, delay: float) -> int | None:
    """How many polls ``delay`` seconds apart fit in ``timeout`` (None: no bound).  The
    first poll is immediate, so n polls span (n - 1) * delay seconds: the wait gives up
    within one poll interval before the timeout, never after it."""
    if timeout is None:
        return None
    return math.floor(timeout.total_seconds() / delay) + 1


def cleanup(log, what: str, action) -> None:
    """Run ``action()`` to stop AWS work after a failed attempt; a failure to stop it is
    logged, never raised over the attempt's own error."""
    try:
        action()
    except Exception:  # noqa: BLE001 - the attempt has failed already
        log.exception("Could not %s", what)
