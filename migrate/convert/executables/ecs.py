"""``docker_image_command`` (ECS, older estates): one SundialEcsOperator registers or reuses
the task definition family ``<process>_<task>`` and runs it on the cluster, as Sundial
did."""

from __future__ import annotations

from migrate.convert.executables import aws
from migrate.convert.executables.context import SUPPORT, TaskContext, split_env
from migrate.ir import JsonDocument, Ref, TaskNode
from migrate.sundial.model import DockerCommand

OPERATOR = Ref(f"{SUPPORT}.ecs", "SundialEcsOperator")
CONTAINER = "sundialTask"


def map_ecs(ctx: TaskContext, cmd: DockerCommand) -> TaskNode:
    name_field = f"{ctx.path}.task_definition_name"
    family = aws.aws_name(
        ctx,
        f"{ctx.process.name}_{ctx.task.name}",
        "ECS task definition family",
        name_field,
    )
    settings = ctx.settings
    resources = {}
    for key, value, default_key in (
        ("cpu", cmd.cpu, "sundial_ecs_default_cpu"),
        ("memory", cmd.memory, "sundial_ecs_default_memory"),
    ):
        if value is not None:
            resources[key] = value
            ctx.ledger.exact(ctx.field(key), f"container {key} {value}")
        else:
            resources[key] = settings[default_key]
            ctx.ledger.note(
                "exact",
                ctx.field(),
                f"{key} not set: Sundial's default {settings[default_key]} used "
                f"({ctx.rule(default_key)})",
            )
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    spec = {
        "family": family,
        "containerDefinitions": [
            {
                "name": CONTAINER,
                "image": f"{cmd.image}:{cmd.tag}",
                "command": list(cmd.command),
                **resources,
                "essential": True,
                **({"environment": aws.env_list(plain)} if plain else {}),
            }
        ],
        "requiresCompatibilities": [settings["ecs_launch_type"]],
    }
    if cmd.task_role_arn:
        spec["taskRoleArn"] = cmd.task_role_arn
        ctx.ledger.exact(ctx.field("taskRoleArn"), "task role of the task definition")
    for f in ("image", "tag", "command"):
        ctx.ledger.exact(
            ctx.field(f), f"carried into task definition family {family!r}"
        )
    if not cmd.log_paths:
        ctx.ledger.exact(ctx.field("log_paths"), "no log files to ship")
    else:
        ctx.ledger.approximated(
            ctx.field("log_paths"),
            "Sundial's log-shipping companion container tailed these files into CloudWatch "
            f"group sundial/{ctx.process.name}/{ctx.task.name}; Airflow runs the job "
            "container alone. Log to stdout and use the awslogs driver instead",
        )
    ctx.spec_file(
        f"aws/ecs/task_definitions/{family}.json",
        {**spec, "secretEnvironmentFromAirflowVariables": secret},
    )
    cluster = settings["ecs_cluster"] or settings["sundial_ecs_cluster"]
    cluster_rule = ctx.rule(
        "ecs_cluster" if settings["ecs_cluster"] else "sundial_ecs_cluster"
    )

    node = ctx.node(OPERATOR, "ecs")
    node.set(
        "task_definition_spec",
        JsonDocument(spec),
        (
            name_field,
            *(ctx.field(f) for f in ("image", "tag", "command", "cpu", "memory")),
            ctx.field("taskRoleArn"),
        ),
        "executor.ecs.register (or reuse the latest revision when unchanged)",
    )
    node.set("cluster", cluster, (), cluster_rule)
    node.set(
        "overrides",
        {
            "containerOverrides": [
                {
                    "name": CONTAINER,
                    "command": list(cmd.command),
                    **({"environment": aws.env_list(plain)} if plain else {}),
                }
            ]
        },
        (ctx.field("command"), ctx.field("environment_variables")),
        "executor.ecs.overrides",
    )
    node.set(
        "launch_type", settings["ecs_launch_type"], (), ctx.rule("ecs_launch_type")
    )
    aws.secrets(ctx, node, secret)
    aws.connection(ctx, node)
    aws.wait(ctx, node, "waiter_delay", "the ECS task")
    aws.injected_env_note(ctx, " and ran a companion container")
    aws.explicit_success(ctx)
    return node
