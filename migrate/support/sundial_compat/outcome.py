"""Sundial's run outcome on top of Airflow's: the run failed if any task's last attempt
failed."""

from __future__ import annotations

from airflow.sdk import BaseOperator

from sundial_compat.airflow_api import AirflowFailException, task_states


class SundialRunOutcomeOperator(BaseOperator):
    """Fails the run when any task failed, as Sundial judged runs.

    Only DAGs with optional dependencies have this task (ALL_DONE, downstream of every
    other): there a failed task can be followed only by tasks that still run and succeed,
    and Airflow judges a run by its last tasks.  Without optional dependencies a failure
    always reaches a last task (as failed or upstream_failed) and Airflow's own rule is
    Sundial's."""

    ui_color = "#fde7c4"

    def __init__(self, **kwargs):
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)

    def execute(self, context):
        states = task_states(context["ti"])
        failed = sorted(
            t for t, s in states.items() if s == "failed" and t != self.task_id
        )
        if failed:
            raise AirflowFailException(
                f"Sundial run failed: task(s) {', '.join(failed)} failed"
            )
