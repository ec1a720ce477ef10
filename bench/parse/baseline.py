"""The hand-written baseline a generated DAG is measured against: what a person would write
for the same Sundial process with Airflow's own operators, one per Sundial task (BashOperator,
BatchOperator, EcsRunTaskOperator, EmrCreateJobFlowOperator / EmrAddStepsOperator), the same
edges, trigger rules, retries, timeouts and schedule, and no helper task, no callback.
Documents (a job flow, steps, overrides) are Python literals, as people write them.

    baseline_dag(model) -> the file's text   (model: a DagModel from migrate.convert)
"""

from __future__ import annotations

import copy

from migrate.codegen.python import render_dag
from migrate.ir import (
    Argument,
    DagModel,
    JsonDocument,
    Literal,
    Provenance,
    Ref,
    TaskNode,
)

_PROVIDER = "airflow.providers"
BASH = Ref(f"{_PROVIDER}.standard.operators.bash", "BashOperator")
BATCH = Ref(f"{_PROVIDER}.amazon.aws.operators.batch", "BatchOperator")
ECS = Ref(f"{_PROVIDER}.amazon.aws.operators.ecs", "EcsRunTaskOperator")
EMR_CREATE = Ref(f"{_PROVIDER}.amazon.aws.operators.emr", "EmrCreateJobFlowOperator")
EMR_STEPS = Ref(f"{_PROVIDER}.amazon.aws.operators.emr", "EmrAddStepsOperator")

# What each generated operator's task keeps in the baseline (the rest is ours: the
# register-or-reuse spec, secret env, upstream checks, poll settings).
KEEP = {
    "SundialShellOperator": (BASH, {"script": "bash_command", "env": "env"}),
    "SundialBatchOperator": (
        BATCH,
        {
            "job_name": "job_name",
            "job_definition": "job_definition",
            "job_queue": "job_queue",
            "container_overrides": "container_overrides",
        },
    ),
    "SundialEcsOperator": (
        ECS,
        {"cluster": "cluster", "overrides": "overrides", "launch_type": "launch_type"},
    ),
    "SundialEmrJobFlowOperator": (
        EMR_CREATE,
        {"job_flow_overrides": "job_flow_overrides"},
    ),
    "SundialEmrStepsOperator": (
        EMR_STEPS,
        {"job_flow_id": "job_flow_id", "steps": "steps"},
    ),
}
TASK_ARGS = ("trigger_rule", "retries", "retry_delay", "execution_timeout")
DAG_ARGS = ("dag_id", "catchup", "max_active_runs", "schedule")


def _plain(value):
    """A hand-writer's literal: documents and literal() wrappers become plain values."""
    if isinstance(value, (JsonDocument, Literal)):
        return _plain(value.value)
    return value


def baseline_dag(model: DagModel) -> str:
    base = DagModel(model.process, model.dag_id, model.file, model.generations, "")
    for name in DAG_ARGS:
        if name in model.arguments:
            base.arguments[name] = model.arguments[name]
    defaults = model.arguments["default_args"].value
    kept = {}
    for node in model.tasks:
        if node.sundial_task is None:
            continue  # a helper task: the baseline has none
        operator, renames = KEEP[node.operator.name]
        task = TaskNode(node.task_id, operator, sundial_task=node.sundial_task)
        for ours, theirs in renames.items():
            if ours in node.arguments:
                task.arguments[theirs] = Argument(
                    copy.deepcopy(_plain(node.arguments[ours].value)),
                    node.arguments[ours].provenance,
                )
        if operator == ECS:
            spec = _plain(node.arguments["task_definition_spec"].value)
            task.set("task_definition", spec["family"], (), "baseline")
        for name in TASK_ARGS:
            if name in node.arguments:
                task.arguments[name] = node.arguments[name]
            elif name in defaults:
                task.set(name, defaults[name], (), "baseline")
        base.tasks.append(task)
        kept[node.task_id] = task
    base.edges = {(a, b) for a, b in model.edges if a in kept and b in kept}
    base.arguments["default_args"] = Argument(
        {k: v for k, v in defaults.items() if k in ("aws_conn_id", "region_name")},
        Provenance((), "baseline"),
    )
    return render_dag(base)
