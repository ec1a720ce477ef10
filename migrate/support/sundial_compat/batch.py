"""One Sundial Batch task as one Airflow task: register (or reuse) the job definition,
submit the job, wait for it, as Sundial's Batch executor did.

Every attempt runs all of it again (a retry submits a new job), the attempt's
``execution_timeout`` bounds all of it, and an attempt that ends without the job having
succeeded (a failure, a timeout, a wait given up) terminates the job, as Sundial killed a
task that outlived ``max_runtime_seconds``.  The wait is deferrable: the triggerer polls AWS
and no worker slot is held.
"""

from __future__ import annotations

import copy

from airflow.providers.amazon.aws.operators.batch import BatchOperator

from sundial_compat.task import SundialTask, StopsItsJob, attempts_within, cleanup


def _comparable(props: dict) -> dict:
    return {
        "image": props.get("image"),
        "command": list(props.get("command") or []),
        "environment": sorted(
            (e["name"], e["value"]) for e in props.get("environment") or []
        ),
        "resources": sorted(
            (r["type"], str(r["value"]))
            for r in props.get("resourceRequirements") or []
        ),
        "jobRoleArn": props.get("jobRoleArn"),
    }


def register_or_reuse(client, spec: dict, log) -> str:
    """The ARN of an ACTIVE job definition equal to ``spec``: the latest revision when it is
    unchanged (Sundial reused it), else a newly registered one."""
    name = spec["jobDefinitionName"]
    found = client.describe_job_definitions(
        jobDefinitionName=name, status="ACTIVE"
    ).get("jobDefinitions", [])
    if found:
        latest = max(found, key=lambda d: d["revision"])
        if _comparable(latest.get("containerProperties", {})) == _comparable(
            spec["containerProperties"]
        ):
            log.info(
                "Reusing job definition %s (unchanged)", latest["jobDefinitionArn"]
            )
            return latest["jobDefinitionArn"]
    response = client.register_job_definition(**spec)
    log.info("Registered job definition %s", response["jobDefinitionArn"])
    return response["jobDefinitionArn"]


def secret_values(secret_env: dict[str, str]) -> list[dict]:
    """``[{name, value}]`` for env vars kept out of the DAG file: values from Variables."""
    if not secret_env:
        return []
    from airflow.sdk import Variable

    return [
        {"name": name, "value": Variable.get(key)}
        for name, key in sorted(secret_env.items())
    ]


class SundialBatchOperator(SundialTask, StopsItsJob, BatchOperator):
    """``BatchOperator`` that first registers or reuses ``job_definition_spec`` (a
    RegisterJobDefinition request; None: ``job_definition`` names one that exists).

    No template fields: every value comes from Sundial and is data, never Jinja.
    ``secret_env`` (env var -> Airflow Variable key) is added to the job definition and the
    overrides at run time.
    """

    template_fields = ()
    ui_color = "#c3dae0"

    def __init__(
        self,
        *,
        job_definition_spec: dict | None = None,
        secret_env: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.job_definition_spec = job_definition_spec
        self.secret_env = secret_env or {}

    def execute(self, context):
        self.before_attempt(context)
        secrets = secret_values(self.secret_env)
        if secrets:
            overrides = copy.deepcopy(self.container_overrides or {})
            overrides.setdefault("environment", []).extend(secrets)
            self.container_overrides = overrides
        if self.job_definition_spec is not None:
            spec = copy.deepcopy(self.job_definition_spec)
            spec["containerProperties"].setdefault("environment", []).extend(secrets)
            self.job_definition = register_or_reuse(self.hook.client, spec, self.log)
        if self.deferrable:
            bound = attempts_within(self.execution_timeout, self.poll_interval)
            if bound is not None:
                self.max_retries = bound  # the trigger gives up within the timeout
        return super().execute(context)

    def stop_job(self, context, event: dict, why: str) -> None:
        job_id = event.get("job_id") or self.job_id
        if not job_id:  # resumed in a new process: the id is in the links' XCom
            details = context["ti"].xcom_pull(
                task_ids=self.task_id, key="batch_job_details"
            )
            job_id = (details or {}).get("job_id")
        if job_id:
            self.log.warning("Terminating AWS Batch job %s: %s", job_id, why)
            cleanup(
                self.log,
                f"terminate AWS Batch job {job_id}",
                lambda: self.hook.client.terminate_job(jobId=job_id, reason=why[:250]),
            )
