"""Register an AWS Batch job definition, or reuse the latest one if unchanged (as Sundial did)."""

from __future__ import annotations

import copy

from airflow.providers.amazon.aws.hooks.batch_client import BatchClientHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator


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


class SundialBatchJobDefinitionOperator(AwsBaseOperator[BatchClientHook]):
    """Returns the ARN of an ACTIVE job definition equal to ``job_definition`` (registering one
    only when the latest revision differs).  ``secret_env`` values come from Airflow Variables.
    """

    aws_hook_class = BatchClientHook
    template_fields = ()
    ui_color = "#c3dae0"

    def __init__(
        self,
        *,
        job_definition: dict,
        secret_env: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.job_definition = job_definition
        self.secret_env = secret_env or {}

    def wanted(self) -> dict:
        spec = copy.deepcopy(self.job_definition)
        if self.secret_env:
            from airflow.sdk import Variable

            env = spec["containerProperties"].setdefault("environment", [])
            env += [
                {"name": k, "value": Variable.get(v)}
                for k, v in sorted(self.secret_env.items())
            ]
        return spec

    def execute(self, context):
        spec = self.wanted()
        client = self.hook.client
        name = spec["jobDefinitionName"]
        found = client.describe_job_definitions(
            jobDefinitionName=name, status="ACTIVE"
        ).get("jobDefinitions", [])
        if found:
            latest = max(found, key=lambda d: d["revision"])
            if _comparable(latest.get("containerProperties", {})) == _comparable(
                spec["containerProperties"]
            ):
                self.log.info(
                    "Reusing job definition %s (unchanged)", latest["jobDefinitionArn"]
                )
                return latest["jobDefinitionArn"]
        response = client.register_job_definition(**spec)
        self.log.info("Registered job definition %s", response["jobDefinitionArn"])
        return response["jobDefinitionArn"]
