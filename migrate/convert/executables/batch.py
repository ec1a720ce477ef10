"""``batch_image_command``: one SundialBatchOperator registers or reuses the job definition
named after the task, submits a job of that name and waits for it, as Sundial did."""

from __future__ import annotations

from migrate.convert.executables import aws
from migrate.convert.executables.context import SUPPORT, TaskContext, split_env
from migrate.ir import JsonDocument, Ref, TaskNode
from migrate.sundial.model import BatchCommand

OPERATOR = Ref(f"{SUPPORT}.batch", "SundialBatchOperator")
SPEC_FIELDS = ("image", "tag", "command", "vCpus", "memory", "job_role_arn")


def job_queue(ctx: TaskContext, cmd: BatchCommand) -> tuple[str, str]:
    """The queue the job goes to and the rule that chose it."""
    renames = ctx.settings["batch_job_queue_renames"] or {}
    if ctx.settings["batch_job_queue"]:
        queue, rule = ctx.settings["batch_job_queue"], ctx.rule("batch_job_queue")
    elif cmd.job_queue is not None:
        queue, rule = cmd.job_queue, "executor.batch.job_queue"
    else:
        queue = ctx.settings["sundial_batch_job_queue"]
        rule = ctx.rule("sundial_batch_job_queue")
    if queue in renames:
        queue, rule = renames[queue], ctx.rule("batch_job_queue_renames")
    return queue, rule


def job_definition(name: str, cmd: BatchCommand, plain: dict[str, str]) -> dict:
    """The RegisterJobDefinition request Sundial's Batch executor made."""
    spec = {
        "jobDefinitionName": name,
        "type": "container",
        "containerProperties": {
            "image": f"{cmd.image}:{cmd.tag}",
            "command": list(cmd.command),
            "resourceRequirements": [
                {"type": "VCPU", "value": str(cmd.vcpus)},
                {"type": "MEMORY", "value": str(cmd.memory)},
            ],
        },
    }
    if plain:
        spec["containerProperties"]["environment"] = aws.env_list(plain)
    if cmd.job_role_arn:
        spec["containerProperties"]["jobRoleArn"] = cmd.job_role_arn
    return spec


def map_batch(ctx: TaskContext, cmd: BatchCommand) -> TaskNode:
    name_field = f"{ctx.path}.task_definition_name"
    name = aws.aws_name(ctx, ctx.task.name, "job definition / job name", name_field)
    queue, queue_rule = job_queue(ctx, cmd)
    queue_field = ctx.field("job_queue")
    if cmd.job_queue is not None:
        ctx.ledger.exact(queue_field, f"job queue {queue!r} ({queue_rule})")
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    spec = job_definition(name, cmd, plain)
    for f in SPEC_FIELDS:
        ctx.ledger.exact(ctx.field(f), f"carried into Batch job definition {name!r}")
    spec_file = f"aws/batch/job_definitions/{name}.json"
    ctx.spec_file(spec_file, {**spec, "secretEnvironmentFromAirflowVariables": secret})

    node = ctx.node(OPERATOR, "batch")
    node.set("job_name", name, (name_field,), "executor.batch.job_name")
    node.set("job_definition", name, (name_field,), "executor.batch.job_definition")
    node.set("job_queue", queue, (queue_field,), queue_rule)
    overrides: dict = {"command": list(cmd.command)}
    if plain:
        overrides["environment"] = aws.env_list(plain)
    node.set(
        "container_overrides",
        overrides,
        (ctx.field("command"), ctx.field("environment_variables")),
        "executor.batch.overrides",
    )
    aws.secrets(ctx, node, secret)
    if ctx.settings["batch_job_definitions"] == "register":
        node.set(
            "job_definition_spec",
            JsonDocument(spec),
            tuple(ctx.field(f) for f in SPEC_FIELDS),
            "executor.batch.register (or reuse the latest revision when unchanged)",
        )
    else:
        ctx.ledger.manual(
            ctx.field("image"),
            f"job definition {name!r} must exist before the DAG runs: register {spec_file} "
            f"({ctx.rule('batch_job_definitions')})",
        )
    aws.connection(ctx, node)
    aws.wait(ctx, node, "poll_interval", "the Batch job")
    aws.injected_env_note(ctx)
    aws.explicit_success(ctx)
    return node
