"""One Sundial ECS task as one Airflow task: register (or reuse) the task definition family
``<process>_<task>``, run it on the cluster, wait until it stops, as Sundial's ECS executor
did.  Every attempt runs all of it again; ``execution_timeout`` bounds it; an attempt that
ends without the task having succeeded stops the ECS task.  The wait is deferrable.
"""

from __future__ import annotations

import copy

from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator

from sundial_compat.batch import secret_values
from sundial_compat.task import SundialTask, StopsItsJob, attempts_within, cleanup


def _comparable(definition: dict) -> dict:
    def container(c: dict) -> dict:
        return {
            "name": c.get("name"),
            "image": c.get("image"),
            "command": list(c.get("command") or []),
            "cpu": c.get("cpu"),
            "memory": c.get("memory"),
            "essential": c.get("essential", True),
            "environment": sorted(
                (e["name"], e["value"]) for e in c.get("environment") or []
            ),
        }

    return {
        "containers": [
            container(c) for c in definition.get("containerDefinitions", [])
        ],
        "taskRoleArn": definition.get("taskRoleArn"),
        "requiresCompatibilities": sorted(
            definition.get("requiresCompatibilities") or []
        ),
    }


def register_or_reuse(client, spec: dict, log) -> str:
    """The ARN of the family's latest ACTIVE revision when it equals ``spec`` (Sundial
    reused an unchanged one), else of a newly registered revision."""
    try:
        latest = client.describe_task_definition(taskDefinition=spec["family"])[
            "taskDefinition"
        ]
    except client.exceptions.ClientException:
        latest = None  # no such family yet
    if (
        latest
        and latest.get("status") == "ACTIVE"
        and _comparable(latest) == _comparable(spec)
    ):
        log.info("Reusing task definition %s (unchanged)", latest["taskDefinitionArn"])
        return latest["taskDefinitionArn"]
    response = client.register_task_definition(**spec)
    arn = response["taskDefinition"]["taskDefinitionArn"]
    log.info("Registered task definition %s", arn)
    return arn


class SundialEcsOperator(SundialTask, StopsItsJob, EcsRunTaskOperator):
    """``EcsRunTaskOperator`` that first registers or reuses ``task_definition_spec`` (a
    RegisterTaskDefinition request) and runs that revision.  No template fields; secret env
    vars (``secret_env``: name -> Airflow Variable key) are added at run time."""

    template_fields = ()
    ui_color = "#d8e6c8"

    def __init__(
        self,
        *,
        task_definition_spec: dict,
        secret_env: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        kwargs.setdefault("task_definition", task_definition_spec["family"])
        super().__init__(**kwargs)
        self.task_definition_spec = task_definition_spec
        self.secret_env = secret_env or {}

    def execute(self, context):
        self.before_attempt(context)
        secrets = secret_values(self.secret_env)
        spec = copy.deepcopy(self.task_definition_spec)
        if secrets:
            for container in spec["containerDefinitions"]:
                container.setdefault("environment", []).extend(secrets)
            overrides = copy.deepcopy(self.overrides or {})
            for container in overrides.get("containerOverrides", []):
                container.setdefault("environment", []).extend(secrets)
            self.overrides = overrides
        self.task_definition = register_or_reuse(self.client, spec, self.log)
        bound = attempts_within(self.execution_timeout, self.waiter_delay)
        if bound is not None:
            self.waiter_max_attempts = bound  # the wait gives up within the timeout
        return super().execute(context)

    def stop_job(self, context, event: dict, why: str) -> None:
        arn = (
            event.get("task_arn")
            or self.arn
            or context["ti"].xcom_pull(task_ids=self.task_id, key="ecs_task_arn")
        )
        if arn:
            self.log.warning("Stopping ECS task %s: %s", arn, why)
            cleanup(
                self.log,
                f"stop ECS task {arn}",
                lambda: self.client.stop_task(
                    cluster=self.cluster, task=arn, reason=why[:255]
                ),
            )
