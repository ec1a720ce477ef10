"""What the Batch, ECS and EMR mappers share: AWS names, connection and region, env
lists, the wait (deferrable or in a worker, and its bound), and the findings about what
Sundial's AWS executors did that Airflow does not."""

from __future__ import annotations

import re

from migrate.convert.executables.context import TaskContext
from migrate.ir import TaskNode

# Batch job and job definition names; ECS task definition families.
_AWS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SUNDIAL_INJECTED_ENV = (
    "graphite.address=companion, graphite.port=13290 and sundial.url=<Sundial's URL>"
)


def aws_name(ctx: TaskContext, name: str, what: str, field_path: str) -> str:
    if _AWS_NAME.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:128] or "sundial"
    ctx.ledger.approximated(
        field_path,
        f"{what} {name!r} is not a valid AWS name; using {cleaned!r}",
    )
    return cleaned


def env_list(plain: dict[str, str]) -> list[dict]:
    """An AWS ``environment`` list (secrets are added by the operator at run time)."""
    return [{"name": k, "value": v} for k, v in plain.items()]


def connection(
    ctx: TaskContext,
    node: TaskNode,
    region: str | None = None,
    region_field: str | None = None,
) -> None:
    node.set("aws_conn_id", ctx.settings["aws_conn_id"], (), ctx.rule("aws_conn_id"))
    if region is not None:
        node.set("region_name", region, (region_field,), "emr.region")
    else:
        node.set(
            "region_name", ctx.settings["region_name"], (), ctx.rule("region_name")
        )


def secrets(ctx: TaskContext, node: TaskNode, secret: dict[str, str]) -> None:
    if secret:
        node.set(
            "secret_env",
            secret,
            (ctx.field("environment_variables"),),
            "executor.aws.secret_env (added at run time from Airflow Variables)",
        )


def wait(ctx: TaskContext, node: TaskNode, poll_argument: str, what: str) -> None:
    """Deferrable or not (setting aws_deferrable), the poll interval (aws_poll_seconds),
    and the findings on how the attempt waits and how it is bounded."""
    deferrable = bool(ctx.settings["aws_deferrable"])
    node.set("deferrable", deferrable, (), ctx.rule("aws_deferrable"))
    poll = ctx.settings["aws_poll_seconds"]
    if poll is not None:
        node.set(poll_argument, poll, (), ctx.rule("aws_poll_seconds"))
    how = (
        f"one Airflow task: it submits {what} and then waits in the triggerer "
        "(deferrable: no worker slot is held while AWS runs it; the Airflow deployment "
        f"must run a triggerer) ({ctx.rule('aws_deferrable')})"
        if deferrable
        else f"one Airflow task: it submits {what} and waits for it in its worker slot "
        f"({ctx.rule('aws_deferrable')}); set aws_deferrable: true to free the slot"
    )
    ctx.ledger.note("exact", ctx.field(), how)
    runtime = ctx.task.max_runtime_seconds
    if runtime is not None:
        ctx.ledger.exact(
            f"{ctx.path}.max_runtime_seconds",
            f"execution_timeout={runtime} s per attempt; an attempt that reaches it (or "
            f"fails) stops {what}, as Sundial killed it",
        )


def injected_env_note(ctx: TaskContext, more: str = "") -> None:
    ctx.ledger.note(
        "approximated",
        ctx.field(),
        f"Sundial also injected {SUNDIAL_INJECTED_ENV}{more}; they point at Sundial's "
        "companion and API and are not reproduced",
    )


def explicit_success(ctx: TaskContext) -> None:
    if ctx.task.require_explicit_success:
        ctx.ledger.manual(
            f"{ctx.path}.require_explicit_success",
            "the container had to call Sundial's POST /api/tasks/{id}/succeed; there is no "
            "such endpoint in Airflow, so the job's exit code decides: make the container "
            "exit non-zero where it used to skip the success call",
        )
