"""batch_image_command: one SundialBatchOperator per Sundial task."""

from __future__ import annotations

import json

from migrate.mapping.rules import MappingRules
from tests.convert.executables import batch_task
from tests.convert.test_process import findings, model_of


def rules(tmp_path, text: str) -> MappingRules:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return MappingRules.load([path])


def test_one_task_registers_submits_and_waits_deferrably():
    m = model_of(batch_task(job_queue="fast"))
    (node,) = m.tasks
    assert node.operator.name == "SundialBatchOperator"
    args = {k: a.value for k, a in node.arguments.items()}
    assert args["job_name"] == args["job_definition"] == "load"
    assert args["job_queue"] == "fast"
    assert args["container_overrides"] == {"command": ["run", "{{ ds }}"]}
    spec = args["job_definition_spec"].value
    assert spec["jobDefinitionName"] == "load"
    assert spec["containerProperties"]["image"] == "repo/img:7"
    assert args["deferrable"] is True and args["retries"] == 2
    assert m.task_map == {"load": "load"}
    (wait,) = [
        f
        for f in findings(m, "task_definitions[load].executable.batch_image_command")
        if "triggerer" in f.message
    ]
    assert wait.severity == "exact"
    # the spec is also written next to the DAG, for review or IaC
    written = json.loads(m.aux_files["aws/batch/job_definitions/load.json"])
    assert written["containerProperties"] == spec["containerProperties"]


def test_default_queue_renames_and_an_override(tmp_path):
    m = model_of(batch_task())
    assert m.task("load").arguments["job_queue"].value == "sundial-job-queue"
    renamed = rules(
        tmp_path, "defaults:\n  batch_job_queue_renames: {sundial-job-queue: prod-q}\n"
    )
    node = model_of(batch_task(), rules=renamed).task("load")
    assert node.arguments["job_queue"].value == "prod-q"
    assert "batch_job_queue_renames" in node.arguments["job_queue"].provenance.rule
    forced = rules(tmp_path, "defaults:\n  batch_job_queue: everything\n")
    node = model_of(batch_task(job_queue="fast"), rules=forced).task("load")
    assert node.arguments["job_queue"].value == "everything"


def test_external_job_definitions_are_only_referenced(tmp_path):
    external = rules(tmp_path, "defaults:\n  batch_job_definitions: external\n")
    m = model_of(batch_task(), rules=external)
    args = m.task("load").arguments
    assert "job_definition_spec" not in args
    assert args["job_definition"].value == "load"
    (manual,) = [
        f
        for f in findings(
            m, "task_definitions[load].executable.batch_image_command.image"
        )
        if f.severity == "manual"
    ]
    assert "aws/batch/job_definitions/load.json" in manual.message


def test_waiting_in_a_worker_and_the_poll_interval_are_settings(tmp_path):
    sync = rules(
        tmp_path, "defaults:\n  aws_deferrable: false\n  aws_poll_seconds: 5\n"
    )
    m = model_of(batch_task(), rules=sync)
    args = m.task("load").arguments
    assert args["deferrable"].value is False and args["poll_interval"].value == 5
    assert any(
        "worker slot" in f.message
        for f in findings(m, "task_definitions[load].executable.batch_image_command")
    )


def test_secret_env_is_read_at_run_time():
    m = model_of(
        batch_task(
            environment_variables=[
                {"variable_name": "DB_PASSWORD", "value": "hunter2"},
                {"variable_name": "STAGE", "value": "prod"},
            ]
        )
    )
    args = m.task("load").arguments
    assert args["secret_env"].value == {"DB_PASSWORD": "sundial_p__load__db_password"}
    assert args["container_overrides"].value["environment"] == [
        {"name": "STAGE", "value": "prod"}
    ]
    assert "hunter2" not in repr(m.arguments) + repr([t.arguments for t in m.tasks])


def test_max_runtime_bounds_and_stops_the_job():
    task = batch_task()
    task["max_runtime_seconds"] = 600
    m = model_of(task)
    assert m.task("load").arguments["execution_timeout"].value.seconds == 600
    (f,) = findings(m, "task_definitions[load].max_runtime_seconds")
    assert f.severity == "exact" and "stops the Batch job" in f.message
