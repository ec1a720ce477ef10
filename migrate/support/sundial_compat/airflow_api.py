"""Where each Airflow 3 minor keeps what the support package uses: the one module that
knows, so every other module imports from here or from ``airflow.sdk``.

Public API only (``airflow.sdk`` exports, the ``airflow.exceptions`` of the minors before
``airflow.sdk.exceptions``, task SDK context accessors), with one exception that no
minor offers publicly: walking back more than one DAG run from a callback (PagerDuty's
``num_consecutive_failures``).  :func:`previous_dag_run` does it through the task SDK's
supervisor channel, the same message ``ti.get_previous_dagrun()`` sends; the names it
needs are in :data:`PRIVATE_NAMES`, which tests/matrix/test_support_api.py checks in every
Airflow minor of the matrix, so a move fails a test rather than a callback.
"""

from __future__ import annotations

try:  # Airflow >= 3.1 (task SDK 1.1)
    from airflow.sdk.exceptions import AirflowException
except ImportError:  # Airflow 3.0
    from airflow.exceptions import AirflowException
try:  # Airflow >= 3.2 (task SDK 1.2)
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.0, 3.1: the task runner catches these
    from airflow.exceptions import AirflowFailException, AirflowSkipException

try:  # Airflow >= 3.3: an exact delay per try
    from airflow.sdk import RetryDecision, RetryPolicy
except ImportError:  # before 3.3 the operators wait out Sundial's backoff (task.py)
    RetryDecision = RetryPolicy = None

# Where BaseOperator.resume_execution is told that a trigger failed or a deferral timed
# out (every minor: airflow.sdk.bases.operator).
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR  # noqa: E402

# (module, attribute) pairs previous_dag_run relies on, none of them public API
PRIVATE_NAMES = (
    ("airflow.sdk.execution_time.task_runner", "SUPERVISOR_COMMS"),
    ("airflow.sdk.execution_time.comms", "GetPreviousDagRun"),
)

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "PRIVATE_NAMES",
    "RetryDecision",
    "RetryPolicy",
    "TRIGGER_FAIL_REPR",
    "previous_dag_run",
    "task_states",
]


def task_states(ti, run_id: str | None = None) -> dict[str, str]:
    """Task id -> state of every task instance of ``ti``'s DAG run (or ``run_id``), through
    the context's task instance (``ti.get_task_states``, a task SDK accessor)."""
    run_id = run_id or ti.run_id
    found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id])
    return {
        task: str(getattr(state, "value", state))
        for task, state in (found.get(run_id) or {}).items()
    }


def previous_dag_run(dag_id: str, logical_date):
    """The DAG run before ``logical_date`` (any state), or None.  Not public API in any
    minor (see the module's docstring): the only private access of the package."""
    from airflow.sdk.execution_time import comms, task_runner

    response = task_runner.SUPERVISOR_COMMS.send(
        comms.GetPreviousDagRun(dag_id=dag_id, logical_date=logical_date)
    )
    return getattr(response, "dag_run", None)
