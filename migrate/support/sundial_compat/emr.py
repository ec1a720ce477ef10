"""One Sundial EMR task as one Airflow task, as Sundial's EMR executor ran it
(app/service/emr/EmrServiceExecutor.scala): its steps submitted, then watched until every
one has COMPLETED (the task fails as soon as one FAILED, was CANCELLED or INTERRUPTED).

- A new cluster: the job flow is created with the steps (TERMINATE_CLUSTER on failure,
  KeepJobFlowAliveWhenNoSteps false); an attempt that does not succeed terminates it.
- An existing cluster: the steps are added (CONTINUE on failure); an attempt that times
  out cancels them, as Sundial did when it killed the task.

Each attempt starts from the beginning (a retry creates a new cluster or adds the steps
again), ``execution_timeout`` bounds it, and the wait is deferrable: the provider's
``EmrAddStepsTrigger`` polls ``ListSteps`` in the triggerer.
"""

from __future__ import annotations

from airflow.providers.amazon.aws.operators.emr import (
    EmrAddStepsOperator,
    EmrCreateJobFlowOperator,
)
from airflow.providers.amazon.aws.triggers.emr import EmrAddStepsTrigger
from botocore.exceptions import WaiterError

from sundial_compat.airflow_api import TRIGGER_FAIL_REPR, AirflowException
from sundial_compat.task import SundialTask, attempts_within, cleanup

XCOM_KEY = "sundial_emr_steps"


class _WaitForSteps:
    """Waits for a set of steps like Sundial: all COMPLETED, or failed at the first that
    is not.  ``on_steps_failed(job_flow_id, step_ids, timed_out)`` cleans up."""

    def wait_for_steps(self, context, job_flow_id: str, step_ids: list[str]):
        delay = self.waiter_delay
        attempts = (
            attempts_within(self.execution_timeout, delay) or self.waiter_max_attempts
        )
        context["ti"].xcom_push(
            key=XCOM_KEY, value={"job_flow_id": job_flow_id, "step_ids": step_ids}
        )
        if self.deferrable:
            self.defer(
                trigger=EmrAddStepsTrigger(
                    job_flow_id=job_flow_id,
                    step_ids=step_ids,
                    waiter_delay=delay,
                    waiter_max_attempts=attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
                timeout=self.execution_timeout,
            )
        try:
            self.hook.get_waiter("steps_wait_for_terminal").wait(
                ClusterId=job_flow_id,
                StepIds=step_ids,
                WaiterConfig={"Delay": delay, "MaxAttempts": attempts},
            )
        except WaiterError as exc:
            timed_out = "Max attempts exceeded" in str(exc)
            self.stop_steps(job_flow_id, step_ids, timed_out)
            raise AirflowException(
                f"EMR steps {step_ids} on {job_flow_id} did not all complete: {exc}"
            ) from None
        return job_flow_id

    def execute_complete(self, context, event=None):
        if not event or event.get("status") != "success":
            message = str((event or {}).get("message"))
            self._failed_from_xcom(context, timed_out="max attempts" in message.lower())
            raise AirflowException(f"EMR steps did not all complete: {message}")
        found = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_KEY) or {}
        return found.get("job_flow_id")

    def resume_execution(self, next_method, next_kwargs, context):
        if (
            next_method == TRIGGER_FAIL_REPR
        ):  # the deferral timed out, or its trigger died
            self._failed_from_xcom(context, timed_out=True)
        return super().resume_execution(next_method, next_kwargs, context)

    def _failed_from_xcom(self, context, timed_out: bool) -> None:
        found = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_KEY) or {}
        if found.get("job_flow_id"):
            self.stop_steps(found["job_flow_id"], found["step_ids"], timed_out)

    def stop_steps(self, job_flow_id, step_ids, timed_out: bool) -> None:
        cleanup(
            self.log,
            f"stop the EMR job on {job_flow_id}",
            lambda: self.on_steps_failed(job_flow_id, step_ids, timed_out),
        )


class SundialEmrJobFlowOperator(SundialTask, _WaitForSteps, EmrCreateJobFlowOperator):
    """A new cluster running the job's steps (``job_flow_overrides``), watched step by
    step; terminated when the attempt does not succeed.  No template fields."""

    template_fields = ()
    ui_color = "#f3d9c1"

    def __init__(self, **kwargs) -> None:
        kwargs["wait_for_completion"] = False  # the steps are watched here instead
        super().__init__(**kwargs)

    def execute(self, context):
        self.before_attempt(context)
        job_flow_id = super().execute(context)  # create the job flow: no waiting
        steps = []
        paginator = self.hook.conn.get_paginator("list_steps")
        for page in paginator.paginate(ClusterId=job_flow_id):
            steps += page["Steps"]
        step_ids = [s["Id"] for s in reversed(steps)]  # ListSteps: newest first
        return self.wait_for_steps(context, job_flow_id, step_ids)

    def on_steps_failed(self, job_flow_id, step_ids, timed_out) -> None:
        state = self.hook.conn.describe_cluster(ClusterId=job_flow_id)["Cluster"][
            "Status"
        ]["State"]
        if state.startswith("TERMINAT"):  # ended by the failed step: nothing to stop
            return
        self.log.warning("Terminating EMR job flow %s", job_flow_id)
        self.hook.conn.terminate_job_flows(JobFlowIds=[job_flow_id])


class SundialEmrStepsOperator(SundialTask, _WaitForSteps, EmrAddStepsOperator):
    """The job's steps added to an existing cluster (``job_flow_id``) and watched; an
    attempt that times out cancels them.  No template fields."""

    template_fields = ()
    ui_color = "#f3d9c1"

    def __init__(self, **kwargs) -> None:
        kwargs["wait_for_completion"] = False
        super().__init__(**kwargs)

    def execute(self, context):
        self.before_attempt(context)
        step_ids = self.hook.add_job_flow_steps(
            job_flow_id=self.job_flow_id, steps=self.steps, wait_for_completion=False
        )
        self._step_ids = step_ids
        return self.wait_for_steps(context, self.job_flow_id, step_ids)

    def on_steps_failed(self, job_flow_id, step_ids, timed_out) -> None:
        if timed_out:  # Sundial cancelled the steps of a task it killed
            self.log.warning("Cancelling EMR steps %s on %s", step_ids, job_flow_id)
            self.hook.conn.cancel_steps(ClusterId=job_flow_id, StepIds=step_ids)

    def on_kill(self) -> None:
        step_ids = getattr(self, "_step_ids", None)
        if step_ids:
            self.stop_steps(self.job_flow_id, step_ids, timed_out=True)
