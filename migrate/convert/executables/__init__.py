"""One mapper per Sundial executable type (Sundial's word; Airflow's "executor" is something
else): each turns one Sundial task into the one Airflow task that stands for it.

``MAPPERS``: executable model class -> mapper.  ``TAKES``: operator -> which of the
arguments DAG-level default_args may carry (HOISTABLE) it accepts.  Airflow 3 applies a
default_args entry only to operators whose __init__ chain has that parameter;
tests/convert/test_default_args.py checks this table against the installed Airflow.
"""

from __future__ import annotations

from migrate.convert.executables import batch, ecs, emr, shell
from migrate.convert.executables.context import SUPPORT, TaskContext, split_env
from migrate.ir import TaskNode
from migrate.sundial.model import BatchCommand, DockerCommand, EmrCommand, ShellCommand

MAPPERS = {
    ShellCommand: shell.map_shell,
    BatchCommand: batch.map_batch,
    DockerCommand: ecs.map_ecs,
    EmrCommand: emr.map_emr,
}

# In the order they are added to the tasks.
HOISTABLE = (
    "aws_conn_id",
    "region_name",
    "emr_conn_id",
    "deferrable",
    "poll_interval",
    "waiter_delay",
    "retries",
    "retry_delay",
    "execution_timeout",
)
BASE_ARGS = frozenset({"retries", "retry_delay", "execution_timeout"})
_AWS = BASE_ARGS | {"aws_conn_id", "region_name", "deferrable"}
TAKES = {
    shell.OPERATOR: BASE_ARGS,
    batch.OPERATOR: _AWS | {"poll_interval"},
    ecs.OPERATOR: _AWS | {"waiter_delay"},
    emr.NEW_CLUSTER: _AWS | {"emr_conn_id", "waiter_delay"},
    emr.EXISTING_CLUSTER: _AWS | {"waiter_delay"},
}


def map_task(ctx: TaskContext) -> TaskNode:
    executable = ctx.task.executable
    return MAPPERS[type(executable)](ctx, executable)


__all__ = [
    "HOISTABLE",
    "MAPPERS",
    "SUPPORT",
    "TAKES",
    "TaskContext",
    "map_task",
    "split_env",
]
