"""The generated DAGs, read back from real Airflow 3.3, behave as the Sundial definitions say.

Expectations are computed here from the Sundial definitions and Sundial's rules, never by
calling the mapping code: the test would catch a mapper that drifts from Sundial.
"""

from __future__ import annotations

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

    assert len(estate_dagbag.dags) >= 20  # an empty DagBag must not pass
    for dag_id, dag in estate_dagbag.dags.items():
        data = DagSerialization.to_dict(dag)
        assert data["dag"]["dag_id"] == dag_id
        assert data["dag"]["tasks"], dag_id


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


def check_process_settings(process, dag, entry):
    name = process.name
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    # every DAG is created paused until its cutover (dags_paused_on_deploy)
    assert dag.is_paused_upon_creation is True
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
            if type(timetable).__name__ == "QuartzTimetable":
                # Quartz forms no cron can say; the plugin's timetable, in UTC
                assert timetable.serialize() == {
                    "expression": process.schedule.quartz_expression(),
                    "timezone": "UTC",
                }
            else:
                assert isinstance(timetable, CronTriggerTimetable)
                assert str(timetable._timezone) == "UTC"


def check_one_airflow_task_per_sundial_task(process, dag, entry):
    """Every Sundial task is one Airflow task; the only other task is the run outcome."""
    assert sorted(entry["tasks"]) == sorted(t.name for t in process.tasks)
    assert len(set(entry["tasks"].values())) == len(process.tasks)
    others = {t.task_id for t in dag.tasks} - set(entry["tasks"].values())
    assert others <= {"sundial_run_outcome"}, others


def check_tasks_retries_timeouts_and_dependencies(process, dag, entry):
    from airflow.sdk import TriggerRule

    name = process.name
    task_map = entry["tasks"]
    for task in process.tasks:
        t = dag.get_task(task_map[task.name])
        assert t.retries == task.max_attempts - 1, (name, task.name)
        if task.max_attempts > 1:
            assert t.retry_delay == timedelta(seconds=task.backoff_base_seconds)
            if task.backoff_exponent != 1.0:
                delays = [
                    t.retry_policy.evaluate(
                        Exception(), n, task.max_attempts
                    ).retry_delay
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
        if task.max_runtime_seconds:
            assert t.execution_timeout == timedelta(seconds=task.max_runtime_seconds)
        elif isinstance(task.executable, EmrCommand):
            assert t.execution_timeout == timedelta(seconds=86400)  # the watch limit
        else:
            assert t.execution_timeout is None
        required = {
            task_map[d.task_name] for d in task.dependencies if d.success_required
        }
        optional = {
            task_map[d.task_name] for d in task.dependencies if not d.success_required
        } - required
        assert t.upstream_task_ids == required | optional, (name, task.name)
        if not optional:
            assert t.trigger_rule == TriggerRule.ALL_SUCCESS, (name, task.name)
        else:
            # ALL_DONE waits for all; the operator itself checks the required ones
            assert t.trigger_rule == TriggerRule.ALL_DONE, (name, task.name)
            assert set(t.required_upstreams) == required, (name, task.name)


def check_run_fails_like_sundial(process, dag, entry):
    """Airflow fails a run through its last tasks.  Wherever a failure could end only in
    tasks that still succeed or are skipped (optional dependencies), a final task
    (ALL_DONE, after every last task) decides the run as Sundial did: any failed task.
    """
    from airflow.sdk import TriggerRule

    task_map = entry["tasks"]
    by_id = {task_map[t.name]: t for t in process.tasks}
    carries = {
        tid: all(d.success_required for d in t.dependencies) for tid, t in by_id.items()
    }

    def reaches_a_last_task(tid, seen=()):
        down = dag.get_task(tid).downstream_task_ids - {"sundial_run_outcome"}
        return not down or any(
            carries[d] and reaches_a_last_task(d, (*seen, tid)) for d in down
        )

    hidden = [tid for tid in by_id if not reaches_a_last_task(tid)]
    ids = {t.task_id for t in dag.tasks}
    if hidden:
        outcome = dag.get_task("sundial_run_outcome")
        assert outcome.trigger_rule == TriggerRule.ALL_DONE
        assert [t.task_id for t in dag.leaves] == ["sundial_run_outcome"]
    else:
        assert "sundial_run_outcome" not in ids, process.name


def check_notifications_are_dag_callbacks(process, dag, entry):
    if process.notifications:
        assert dag.on_success_callback is dag.on_failure_callback
        assert type(dag.on_failure_callback).__name__ == "SundialNotifications"
        assert dag.on_failure_callback.process_name == process.name
    else:
        assert dag.on_failure_callback is None and dag.on_success_callback is None


def check_executor_fields_carry_sundial_values_literally(process, dag, entry):
    for task in process.tasks:
        op = dag.get_task(entry["tasks"][task.name])
        assert op.template_fields == ()  # every value is data, never Jinja
        ex = task.executable
        if isinstance(ex, ShellCommand):
            assert type(op).__name__ == "SundialShellOperator"
            assert op.script == ex.script
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
            assert type(op).__name__ == "SundialBatchOperator"
            assert op.container_overrides["command"] == list(ex.command)
            assert op.job_queue == (ex.job_queue or "sundial-job-queue")
            spec = op.job_definition_spec
            assert spec["jobDefinitionName"] == op.job_name == op.job_definition
            assert spec["containerProperties"]["image"] == f"{ex.image}:{ex.tag}"
            assert {"type": "VCPU", "value": str(ex.vcpus)} in spec[
                "containerProperties"
            ]["resourceRequirements"]
            assert {"type": "MEMORY", "value": str(ex.memory)} in spec[
                "containerProperties"
            ]["resourceRequirements"]
            assert spec["containerProperties"].get("jobRoleArn") == ex.job_role_arn
        elif isinstance(ex, DockerCommand):
            assert type(op).__name__ == "SundialEcsOperator"
            # Sundial's family; characters AWS refuses become "_" (and a finding says so)
            family = re.sub(r"[^A-Za-z0-9_-]", "_", f"{process.name}_{task.name}")[:128]
            spec = op.task_definition_spec
            assert spec["family"] == family
            (container,) = spec["containerDefinitions"]
            assert container["image"] == f"{ex.image}:{ex.tag}"
            assert container["cpu"] == (ex.cpu if ex.cpu is not None else 1000)
            assert container["memory"] == (ex.memory if ex.memory is not None else 768)
            assert op.overrides["containerOverrides"][0]["command"] == list(ex.command)
            assert op.cluster == "sundial"
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
                assert type(op).__name__ == "SundialEmrStepsOperator"
                steps = op.steps
                assert op.job_flow_id == ex.cluster.cluster_id
                assert {s["ActionOnFailure"] for s in steps} == {"CONTINUE"}
            else:
                assert type(op).__name__ == "SundialEmrJobFlowOperator"
                flow = op.job_flow_overrides
                steps = flow["Steps"]
                assert flow["Instances"]["KeepJobFlowAliveWhenNoSteps"] is False
                assert flow["ReleaseLabel"] == ex.cluster.release_label
                groups = {
                    g["InstanceRole"]: g for g in flow["Instances"]["InstanceGroups"]
                }
                assert (
                    groups["MASTER"]["InstanceType"] == ex.cluster.master.instance_type
                )
                assert {s["ActionOnFailure"] for s in steps} == {"TERMINATE_CLUSTER"}
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


def check_aws_connections_regions_and_waits(process, dag, entry):
    """Per task or once in default_args, every AWS task ends up with the connection and
    region it needs and waits deferrably; only AWS tasks get them (default_args reach only
    the operators that take a parameter)."""
    for task in process.tasks:
        ex = task.executable
        t = dag.get_task(entry["tasks"][task.name])
        where = (process.name, t.task_id)
        if isinstance(ex, ShellCommand):
            assert getattr(t, "aws_conn_id", None) is None, where
            assert getattr(t, "region_name", None) is None, where
            continue
        assert t.aws_conn_id == "aws_default", where
        region = ex.region if isinstance(ex, EmrCommand) else "us-east-1"
        assert t.region_name == region, where
        assert t.deferrable is True, where
        if isinstance(ex, EmrCommand) and not isinstance(
            ex.cluster, ExistingEmrCluster
        ):
            assert t.emr_conn_id == "emr_default", where
    if "sundial_run_outcome" in {t.task_id for t in dag.tasks}:
        assert getattr(dag.get_task("sundial_run_outcome"), "aws_conn_id", None) is None


def test_no_secret_value_is_written_into_dag_files(converted_estate, estate_processes):
    text = "".join(
        p.read_text(encoding="utf-8") for p in (ESTATE_OUT / "dags").glob("*.py")
    )
    import re

    from migrate.mapping.rules import MappingRules

    # the setting that decides, not a hard-coded list of words
    secret = re.compile(MappingRules.load().defaults["secret_env_pattern"].value)
    checked = 0
    for process in estate_processes.values():
        for task in process.tasks:
            for var in getattr(task.executable, "env", ()):
                if secret.search(var.name) and var.value:
                    checked += 1
                    assert repr(var.value)[1:-1] not in text, (process.name, var.name)
    assert checked >= 3  # the estate has secrets to keep out


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
    check_one_airflow_task_per_sundial_task,
    check_tasks_retries_timeouts_and_dependencies,
    check_run_fails_like_sundial,
    check_notifications_are_dag_callbacks,
    check_executor_fields_carry_sundial_values_literally,
    check_aws_connections_regions_and_waits,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_estate_reads_back_as_sundial_implies(
    check, estate_dagbag, report, estate_processes
):
    for name, process in estate_processes.items():
        dag, entry = _dag(estate_dagbag, report, name)
        check(process, dag, entry)
