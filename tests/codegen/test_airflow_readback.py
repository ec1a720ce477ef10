"""The generated DAGs, read back from real Airflow 3.3, behave as the Sundial definitions say.

Expectations are computed here from the Sundial definitions and Sundial's rules, never by
calling the mapping code: the test would catch a mapper that drifts from Sundial.
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.conftest import ESTATE_OUT

from migrate.sundial.model import (
    BatchCommand,
    ContinuousSchedule,
    CronSchedule,
    DockerCommand,
    EmrCommand,
    ExistingEmrCluster,
    ShellCommand,
)


@pytest.fixture(scope="module")
def report(converted_estate):
    from migrate.report import read_parity

    return read_parity(ESTATE_OUT / "report" / "parity.json")


def test_every_dag_loads_without_import_errors(estate_dagbag, estate_processes):
    assert estate_dagbag.import_errors == {}
    assert len(estate_dagbag.dags) == len(estate_processes) >= 20


def test_every_dag_serializes_like_the_dag_processor(estate_dagbag):
    from airflow.serialization.serialized_objects import DagSerialization

    for dag_id, dag in estate_dagbag.dags.items():
        data = DagSerialization.to_dict(dag)
        assert data["dag"]["dag_id"] == dag_id


def test_report_contract(report, estate_processes):
    assert report["report_version"] == 2
    assert {p["process"] for p in report["processes"]} == set(estate_processes)
    for entry in report["processes"]:
        assert set(entry) >= {"process", "dag_id", "file", "page", "tasks", "findings"}
        assert (ESTATE_OUT / entry["file"]).is_file()
        assert (ESTATE_OUT / entry["page"]).is_file()
        assert set(entry["tasks"]) == {
            t.name for t in estate_processes[entry["process"]].tasks
        }
        assert isinstance(entry["exact"], int) and entry["exact"] > 0
        for finding in entry["findings"]:  # every one that is not exact, in full
            assert set(finding) == {"severity", "field", "message"}
            assert finding["severity"] in ("approximated", "unsupported", "manual")
    raw = json.loads((ESTATE_OUT / "report" / "parity.json").read_text())
    # long messages are written once, and every key a finding names is there
    keys = {f["see"] for p in raw["processes"] for f in p["findings"] if "see" in f}
    assert keys and keys == set(raw["messages"])


def _dag(estate_dagbag, report, name):
    entry = next(p for p in report["processes"] if p["process"] == name)
    return estate_dagbag.dags[entry["dag_id"]], entry


def _unit_tasks(dag, success_id):
    """All Airflow tasks that belong to the Sundial task whose success task is success_id."""
    group = success_id.rsplit(".", 1)[0] if "." in success_id else None
    if group is None:
        return [dag.get_task(success_id)]
    return [t for t in dag.tasks if t.task_id.startswith(group + ".")]


def _entries(dag, success_id):
    unit = _unit_tasks(dag, success_id)
    ids = {t.task_id for t in unit}
    return [t for t in unit if not (t.upstream_task_ids & ids)]


def check_process_settings(process, dag, entry):
    name = process.name
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.is_paused_upon_creation is bool(process.paused)
    assert name in dag.doc_md  # the original name stays visible


def check_schedules(process, dag, entry):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.simple import ContinuousTimetable
    from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable

    timetable = coerce_to_core_timetable(dag.timetable)
    if process.schedule is None:
        assert not timetable.can_be_scheduled
    elif isinstance(process.schedule, ContinuousSchedule):
        if process.schedule.buffer_seconds:
            assert isinstance(timetable, DeltaTriggerTimetable)
            assert timetable._delta == timedelta(
                seconds=process.schedule.buffer_seconds
            )
        else:
            assert isinstance(timetable, ContinuousTimetable)
    else:
        assert isinstance(process.schedule, CronSchedule)
        schedule_findings = [
            f for f in entry["findings"] if f["field"] == "schedule.cron_schedule"
        ]
        if not schedule_findings:  # exact: parity.json counts it, the page lists it
            page = (ESTATE_OUT / entry["page"]).read_text(encoding="utf-8")
            assert (
                "<code>schedule.cron_schedule</code>" in page
            ), "every cron schedule gets a finding"
        if not schedule_findings or schedule_findings[0]["severity"] != "manual":
            assert isinstance(timetable, CronTriggerTimetable)
            assert str(timetable._timezone) == "UTC"


def check_tasks_retries_timeouts_and_dependencies(process, dag, entry):
    from airflow.sdk import TriggerRule

    name = process.name
    task_map = entry["tasks"]
    for task in process.tasks:
        unit = _unit_tasks(dag, task_map[task.name])
        # exactly one task of the unit carries Sundial's attempts
        carrying = [
            t for t in unit if t.retries == task.max_attempts - 1 and t.retries > 0
        ]
        if task.max_attempts > 1:
            assert carrying, (name, task.name)
            for t in carrying:
                assert t.retry_delay == timedelta(seconds=task.backoff_base_seconds)
                if task.backoff_exponent != 1.0:
                    policy = t.retry_policy
                    delays = [
                        policy.evaluate(Exception(), n, task.max_attempts).retry_delay
                        for n in range(1, task.max_attempts)
                    ]
                    expected = [
                        timedelta(
                            seconds=int(
                                task.backoff_base_seconds * task.backoff_exponent**n
                            )
                        )
                        for n in range(1, task.max_attempts)
                    ]
                    assert delays == expected, (name, task.name)
        if task.max_runtime_seconds and not isinstance(task.executable, EmrCommand):
            assert any(
                t.execution_timeout == timedelta(seconds=task.max_runtime_seconds)
                for t in unit
            ), (name, task.name)
        entries = _entries(dag, task_map[task.name])
        for dep in task.dependencies:
            up = task_map[dep.task_name]
            for e in entries:
                direct = up in e.upstream_task_ids
                joins = [
                    dag.get_task(j)
                    for j in e.upstream_task_ids
                    if j.endswith("__optional_upstreams")
                ]
                via_join = any(up in j.upstream_task_ids for j in joins)
                if dep.success_required:
                    assert direct, (name, task.name, dep)
                    assert e.trigger_rule == TriggerRule.ALL_SUCCESS
                else:
                    assert direct or via_join, (name, task.name, dep)
                    if direct:
                        assert e.trigger_rule == TriggerRule.ALL_DONE
                    else:
                        assert all(
                            j.trigger_rule == TriggerRule.ALL_DONE for j in joins
                        )


def check_run_fails_like_sundial_when_optional_dependencies_exist(process, dag, entry):
    """With optional dependencies a failed task need not reach a leaf, so a final task
    (ALL_DONE, downstream of every task) must decide the run as Sundial did."""
    from airflow.sdk import TriggerRule

    has_optional = any(
        not d.success_required for t in process.tasks for d in t.dependencies
    )
    if has_optional or process.notifications:
        outcome = dag.get_task("sundial_run_outcome")
        assert outcome.trigger_rule == TriggerRule.ALL_DONE
        assert outcome.upstream_task_ids == {t.task_id for t in dag.tasks} - {
            outcome.task_id
        }
        assert [t.task_id for t in dag.leaves] == ["sundial_run_outcome"]


def _render(task, field):
    value = getattr(task, field)
    secrets = collections.defaultdict(lambda: "<from an Airflow Variable>")
    return task.render_template(value, {"ds": "2026-01-01", "var": {"value": secrets}})


def check_executor_fields_carry_sundial_values_literally(process, dag, entry):
    from airflow.providers.standard.operators.bash import BashOperator

    for task in process.tasks:
        unit = {
            t.task_id.rsplit(".", 1)[-1]: t
            for t in _unit_tasks(dag, entry["tasks"][task.name])
        }
        ex = task.executable
        if isinstance(ex, ShellCommand):
            (op,) = unit.values()
            assert isinstance(op, BashOperator)
            assert op.script == ex.script
            assert op.template_fields == ()
            plain = {
                e.name: e.value
                for e in ex.env
                if "PASSWORD" not in e.name
                and "TOKEN" not in e.name
                and "SECRET" not in e.name
            }
            assert {k: v for k, v in (op.env or {}).items() if k in plain} == plain
            assert op.require_explicit_success is task.require_explicit_success
        elif isinstance(ex, BatchCommand):
            submit = unit["submit_job"]
            assert _render(submit, "container_overrides")["command"] == list(ex.command)
            queue = ex.job_queue or "sundial-job-queue"
            assert _render(submit, "job_queue") == queue
            spec = unit["register_job_definition"].job_definition
            assert spec["containerProperties"]["image"] == f"{ex.image}:{ex.tag}"
            assert {"type": "VCPU", "value": str(ex.vcpus)} in spec[
                "containerProperties"
            ]["resourceRequirements"]
            assert {"type": "MEMORY", "value": str(ex.memory)} in spec[
                "containerProperties"
            ]["resourceRequirements"]
            assert spec["containerProperties"].get("jobRoleArn") == ex.job_role_arn
        elif isinstance(ex, DockerCommand):
            reg, run = unit["register_task_definition"], unit["run_task"]
            # Sundial's family; characters AWS refuses become "_" (and a finding says so)
            family = re.sub(r"[^A-Za-z0-9_-]", "_", f"{process.name}_{task.name}")[:128]
            assert _render(run, "task_definition") == family
            assert _render(reg, "family") == family
            container = _render(reg, "container_definitions")[0]
            assert container["image"] == f"{ex.image}:{ex.tag}"
            assert container["cpu"] == (ex.cpu if ex.cpu is not None else 1000)
            assert container["memory"] == (ex.memory if ex.memory is not None else 768)
            assert _render(run, "overrides")["containerOverrides"][0][
                "command"
            ] == list(ex.command)
        elif isinstance(ex, EmrCommand):
            spark_args = ["spark-submit"]
            for c in ex.spark_conf:
                spark_args += ["--conf", c]
            if ex.spark_packages:
                spark_args += [
                    "--packages",
                    ",".join(p.coordinate() for p in ex.spark_packages),
                ]
            spark_args += ["--class", ex.main_class, ex.s3_jar_path, *ex.args]
            if isinstance(ex.cluster, ExistingEmrCluster):
                steps = _render(unit["add_steps"], "steps")
                assert (
                    _render(unit["add_steps"], "job_flow_id") == ex.cluster.cluster_id
                )
                assert len([k for k in unit if k.startswith("watch_step_")]) == len(
                    steps
                )
            else:
                flow = _render(unit["create_job_flow"], "job_flow_overrides")
                steps = flow["Steps"]
                assert flow["Instances"]["KeepJobFlowAliveWhenNoSteps"] is False
                assert flow["ReleaseLabel"] == ex.cluster.release_label
                groups = {
                    g["InstanceRole"]: g for g in flow["Instances"]["InstanceGroups"]
                }
                assert (
                    groups["MASTER"]["InstanceType"] == ex.cluster.master.instance_type
                )
                assert (
                    unit["watch_job_flow"].timeout
                    == (ex_timeout := task.max_runtime_seconds or 86400)
                    and ex_timeout
                )
            assert len(steps) == len(ex.load_data) + 1 + len(ex.save_results)
            spark = steps[len(ex.load_data)]
            assert spark["Name"] == ex.job_name
            assert spark["HadoopJarStep"]["Args"] == spark_args
            for step, copy in zip(steps, ex.load_data):
                assert step["HadoopJarStep"]["Args"] == [
                    "s3-dist-cp",
                    "--s3Endpoint=s3.amazonaws.com",
                    f"--src={copy.source}",
                    f"--dest={copy.destination}",
                ]


def check_aws_connections_regions_and_sensor_settings(process, dag, entry):
    """Per task or once in default_args, every AWS task ends up with the connection and
    region it needs, and only AWS tasks get them (default_args reach only the operators
    that take a parameter)."""
    for task in process.tasks:
        ex = task.executable
        for t in _unit_tasks(dag, entry["tasks"][task.name]):
            where = (process.name, t.task_id)
            if isinstance(ex, ShellCommand) or t.task_id.endswith(".steps_done"):
                assert getattr(t, "aws_conn_id", None) is None, where
                assert getattr(t, "region_name", None) is None, where
                continue
            assert t.aws_conn_id == "aws_default", where
            region = ex.region if isinstance(ex, EmrCommand) else "us-east-1"
            assert t.region_name == region, where
            if t.task_id.endswith(".create_job_flow"):
                assert t.emr_conn_id == "emr_default", where
            if t.task_id.rsplit(".", 1)[-1].startswith("watch_"):
                assert (t.poke_interval, t.mode) == (60, "reschedule"), where
    for t in dag.tasks:
        if t.task_id == "sundial_run_outcome" or "__optional_upstreams" in t.task_id:
            assert getattr(t, "aws_conn_id", None) is None, t.task_id


def test_no_secret_value_is_written_into_dag_files(converted_estate, estate_processes):
    text = "".join(
        p.read_text(encoding="utf-8") for p in (ESTATE_OUT / "dags").glob("*.py")
    )
    for process in estate_processes.values():
        for task in process.tasks:
            for var in getattr(task.executable, "env", ()):
                if any(word in var.name for word in ("PASSWORD", "TOKEN", "SECRET")):
                    assert repr(var.value)[1:-1] not in text or var.value in ("",), (
                        process.name,
                        var.name,
                    )


def test_output_is_black_clean_and_deterministic(tmp_path, converted_estate):
    from migrate.pipeline import convert
    from tests.conftest import ESTATE

    again = tmp_path / "again"
    convert([ESTATE], again, timezone="UTC")
    from migrate.cache import CACHE_DIR

    def outputs(root):  # the cache holds file times, it is not output
        return sorted(
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and CACHE_DIR not in p.parts
        )

    first = outputs(ESTATE_OUT)
    assert first == outputs(again)
    for rel in first:
        assert (ESTATE_OUT / rel).read_bytes() == (again / rel).read_bytes(), rel
    check = subprocess.run(
        [sys.executable, "-m", "black", "--check", "-q", str(ESTATE_OUT / "dags")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


CHECKS = [
    check_process_settings,
    check_schedules,
    check_tasks_retries_timeouts_and_dependencies,
    check_run_fails_like_sundial_when_optional_dependencies_exist,
    check_executor_fields_carry_sundial_values_literally,
    check_aws_connections_regions_and_sensor_settings,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_estate_reads_back_as_sundial_implies(
    check, estate_dagbag, report, estate_processes
):
    for name, process in estate_processes.items():
        dag, entry = _dag(estate_dagbag, report, name)
        check(process, dag, entry)
