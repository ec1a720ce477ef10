"""Wire shape <-> stored form: rows as Sundial's Jackson writes them (every option written,
``null`` when absent), read back as Sundial's API renders them, converting to the same DAGs.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.server import load_estate
from fixtures.server.estate import jsonb_order
from migrate.codegen.python import render_dag
from migrate.convert import convert_estate
from migrate.extract.stored_form import (
    doubled_dependencies,
    stored_to_wire,
    wire_to_stored,
    with_buggy_dependencies,
)
from migrate.mapping.rules import MappingRules
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from tests.sundial_strategies import ONE_WAY, definitions, without_empty

ESTATE = load_estate()
RULES = MappingRules.load()
# Fields Sundial's classes always have: a definition that left them out comes back with
# the value Sundial stored for it.
FILLED = {
    "paused": False,
    "buffer_seconds": 0,
    "overlap_action": "wait",
    "backoff_exponent": 1.0,
    "require_explicit_success": False,
    "tag": "latest",
    "log_paths": [],
    "environment_variables": [],
    "region": "us-east-1",
    "spark_packages": [],
    "release_label": "emr-5.10.0",
    "visible_to_all_users": False,
    "notify_when": "on_state_change_and_failures",
    "api_url": "https://events.pagerduty.com",
    "num_consecutive_failures": 1,
}


def leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path, value


def through_database(defn: dict) -> dict:
    """What an export reads back: the rows, their JSON columns through JSON text in jsonb's
    key order, rendered again."""
    stored = wire_to_stored(defn)
    process = json.loads(json.dumps(jsonb_order(stored.process)))
    tasks = json.loads(json.dumps(jsonb_order(stored.tasks)))
    for task in tasks:  # rows and arrays in another order than they were written
        task["required_dependencies"].reverse()
        task["optional_dependencies"].reverse()
    tasks.sort(key=lambda t: t["task_definition_name"], reverse=True)
    return stored_to_wire(process, tasks)


@pytest.mark.parametrize(
    "defn", ESTATE, ids=[d["process_definition_name"] for d in ESTATE]
)
def test_the_estate_round_trips(defn):
    stored = wire_to_stored(defn)
    wire = stored_to_wire(stored.process, stored.tasks)
    # Nothing is lost; what is added is only what Sundial always stored.
    before, after = dict(leaves(defn)), dict(leaves(wire))
    for path in [p for p, v in before.items() if v == [] and p[-1] in ONE_WAY]:
        if path not in after:
            del before[path]  # an empty list the rows cannot tell from none
    assert {p: v for p, v in after.items() if p in before} == before
    added = {p: v for p, v in after.items() if p not in before}
    assert all(FILLED[p[-1]] == v for p, v in added.items()), added
    # The stored form is a fixed point: rows written again from what was read are equal.
    assert wire_to_stored(wire) == stored
    assert stored_to_wire(*_rows(wire_to_stored(wire))) == wire


def _rows(stored):
    return stored.process, stored.tasks


def by_name(name):
    return next(d for d in ESTATE if d["process_definition_name"] == name)


def test_sundial_key_names_and_every_option_written():
    stored = wire_to_stored(by_name("spark-daily-aggregations"))
    emr = stored.tasks[0]["executable"]
    assert emr["type"] == "emr"
    assert emr["clazz"].startswith("com.acme")
    cluster = emr["emrClusterDetails"]
    # EmrClusterDetails of app/model/Executable.scala: all fifteen fields, in order.
    assert list(cluster) == [
        "clusterName",
        "releaseLabel",
        "applications",
        "s3LogUri",
        "masterInstanceGroup",
        "coreInstanceGroup",
        "taskInstanceGroup",
        "ec2Subnet",
        "emrServiceRole",
        "emrJobFlowRole",
        "visibleToAllUsers",
        "configurations",
        "securityConfiguration",
        "clusterId",
        "existingCluster",
    ]
    assert cluster["existingCluster"] is False and cluster["clusterId"] is None
    assert cluster["emrServiceRole"] == "acme-emr-service-role"
    assert cluster["emrJobFlowRole"] == "EMR_EC2_DefaultRole"
    assert cluster["coreInstanceGroup"] == {
        "instanceType": "r5.2xlarge",
        "instanceCount": 4,
        "ebsVolumeSizeOpt": 256,
        "awsMarket": "spot",
        "bidPriceOpt": 0.21,
    }
    assert cluster["masterInstanceGroup"]["bidPriceOpt"] is None
    assert emr["sparkPackages"][0] == {
        "groupId": "org.apache.spark",
        "artifactId": "spark-avro_2.11",
        "version": "2.4.0",
    }
    assert emr["s3LogDetailsOpt"] == {
        "logGroupName": "sundial/emr",
        "logStreamName": "spark-daily-aggregations",
    }
    shell = stored.tasks[1]["executable"]
    assert shell["type"] == "shell"
    assert shell["environmentVariables"]["DB_PASSWORD"] == "fake-not-a-secret"
    assert stored.tasks[1]["required_dependencies"] == ["aggregate.daily_revenue"]
    assert stored.process["notifications"][1] == {
        "type": "pagerduty",
        "service_key": "fake-pd-service-key-aggregations-0001",
        "api_url": "https://events.eu.pagerduty.com",
        "num_consecutive_failures": 3,
    }
    assert stored.process["schedule"] == {
        "type": "cron",
        "minutes": "45",
        "hours": "3",
        "dayOfMonth": "?",
        "month": "*",
        "dayOfWeek": "*",
    }


def test_absent_options_are_null_and_defaults_are_stored():
    defn = {
        "process_definition_name": "p",
        "task_definitions": [
            {
                "task_definition_name": "b",
                "dependencies": [],
                "executable": {
                    "batch_image_command": {
                        "image": "i",
                        "command": [],
                        "memory": 1,
                        "vCpus": 1,
                    }
                },
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            },
            {
                "task_definition_name": "e",
                "dependencies": [],
                "executable": {
                    "emr_command": {
                        "emr_cluster": {"existing_emr_cluster": {"cluster_id": "j-1"}},
                        "job_name": "j",
                        "class": "C",
                        "s3_jar_path": "s3://j",
                        "spark_conf": [],
                        "args": [],
                    }
                },
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            },
        ],
    }
    stored = wire_to_stored(defn)
    assert stored.process["description"] is None
    assert stored.process["schedule"] is None
    assert stored.process["is_disabled"] is False
    assert stored.process["teams"] == [] and stored.process["notifications"] == []
    batch, emr = (t["executable"] for t in stored.tasks)
    assert batch == {
        "type": "batch",
        "image": "i",
        "tag": "latest",
        "command": [],
        "memory": 1,
        "vCpus": 1,
        "jobRoleArn": None,
        "environmentVariables": {},
        "jobQueue": None,
    }
    assert emr["region"] == "us-east-1" and emr["sparkPackages"] == []
    assert emr["s3LogDetailsOpt"] is None
    assert emr["loadData"] is None and emr["saveResults"] is None
    cluster = emr["emrClusterDetails"]
    assert cluster["clusterId"] == "j-1" and cluster["existingCluster"] is True
    assert cluster["applications"] == []
    assert {k: v for k, v in cluster.items() if v is None} == {
        k: None
        for k in cluster
        if k not in ("clusterId", "existingCluster", "applications")
    }
    assert len(cluster) == 15
    assert stored.tasks[0]["max_execution_time"] is None
    assert stored.tasks[0]["require_explicit_success"] is False


def test_rows_as_a_real_sundial_writes_them():
    """A Jackson dump with null at every depth reads as a valid definition; legacy teams
    carry notify_options."""
    process = {
        "process_definition_name": "old",
        "description": None,
        "schedule": {"type": "continuous", "bufferSeconds": 0},
        "overlap_action": "wait",
        "teams": [
            {"name": "Ops", "email": "ops@example.com", "notify_options": "always"}
        ],
        "is_disabled": False,
        "notifications": [],
        "created_at": "2017-01-01T00:00:00+00:00",
    }
    group = {
        "instanceType": "m5.xlarge",
        "instanceCount": 1,
        "awsMarket": "on_demand",
        "bidPriceOpt": None,
        "ebsVolumeSizeOpt": None,
    }
    emr = {
        "type": "emr",
        "emrClusterDetails": {
            "clusterName": "c",
            "clusterId": None,
            "releaseLabel": "emr-5.10.0",
            "applications": ["Spark"],
            "s3LogUri": "s3://logs",
            "masterInstanceGroup": group,
            "coreInstanceGroup": None,
            "taskInstanceGroup": None,
            "ec2Subnet": None,
            "emrServiceRole": "EMR_DefaultRole",
            "emrJobFlowRole": "EMR_EC2_DefaultRole",
            "visibleToAllUsers": False,
            "configurations": [
                {
                    "classification": "spark-defaults",
                    "configurations": None,
                    "properties": {"spark.a": "1"},
                },
                {
                    "classification": "hadoop-env",
                    "configurations": [
                        {
                            "classification": "export",
                            "configurations": None,
                            "properties": None,
                        }
                    ],
                    "properties": None,
                },
            ],
            "existingCluster": False,
            "securityConfiguration": None,
        },
        "jobName": "j",
        "region": "us-east-1",
        "clazz": "C",
        "s3JarPath": "s3://j",
        "sparkConf": [],
        "sparkPackages": [],
        "args": [],
        "s3LogDetailsOpt": None,
        "loadData": None,
        "saveResults": None,
    }
    batch = {
        "type": "batch",
        "image": "i",
        "tag": "latest",
        "command": ["x"],
        "memory": 512,
        "vCpus": 1,
        "jobRoleArn": None,
        "environmentVariables": {},
        "jobQueue": None,
    }
    task_row = {
        "process_definition_name": "old",
        "max_attempts": 1,
        "max_execution_time": None,
        "backoff_seconds": 0,
        "backoff_exponent": 1.0,
        "required_dependencies": None,
        "optional_dependencies": None,
        "require_explicit_success": False,
    }
    tasks = [
        {**task_row, "task_definition_name": "t", "executable": batch},
        {**task_row, "task_definition_name": "spark", "executable": emr},
    ]
    wire = stored_to_wire(process, tasks)
    assert "null" not in json.dumps(wire)
    assert wire["paused"] is False
    assert wire["schedule"] == {"continuous_schedule": {"buffer_seconds": 0}}
    assert wire["notifications"] == [
        {"email": {"name": "Ops", "email": "ops@example.com", "notify_when": "always"}}
    ]
    assert "subscriptions" not in wire
    assert wire["task_definitions"][0]["executable"] == {
        "batch_image_command": {
            "image": "i",
            "tag": "latest",
            "command": ["x"],
            "memory": 512,
            "vCpus": 1,
            "environment_variables": [],
        }
    }
    cluster = wire["task_definitions"][1]["executable"]["emr_command"]["emr_cluster"]
    assert cluster["new_emr_cluster"]["configurations"] == [
        {"classification": "spark-defaults", "properties": {"spark.a": "1"}},
        {
            "classification": "hadoop-env",
            "configurations": [{"classification": "export"}],
        },
    ]
    assert wire["task_definitions"][0]["dependencies"] == []
    model = read_process(wire, SourceRef("db"))
    assert not isinstance(model, list), [str(p) for p in model]
    assert model.unknown_fields == ()


def test_an_existing_cluster_as_jackson_writes_it():
    cluster = {
        "clusterName": None,
        "clusterId": "j-EXISTING",
        "releaseLabel": None,
        "applications": [],
        "s3LogUri": None,
        "masterInstanceGroup": None,
        "coreInstanceGroup": None,
        "taskInstanceGroup": None,
        "ec2Subnet": None,
        "emrServiceRole": None,
        "emrJobFlowRole": None,
        "visibleToAllUsers": None,
        "configurations": None,
        "existingCluster": True,
        "securityConfiguration": None,
    }
    from migrate.extract.stored_form import _cluster_to_wire

    assert _cluster_to_wire(cluster, "x") == {
        "existing_emr_cluster": {"cluster_id": "j-EXISTING"}
    }
    odd = {**cluster, "s3LogUri": "s3://set-by-hand"}
    assert _cluster_to_wire(odd, "x") == {
        "existing_emr_cluster": {
            "cluster_id": "j-EXISTING",
            "s3LogUri": "s3://set-by-hand",
        }
    }


@pytest.mark.parametrize(
    "column, key, path",
    [
        ("executable", "image", "executable.batch_image_command.image"),
        ("executable", "command", "executable.batch_image_command.command"),
        ("executable", "memory", "executable.batch_image_command.memory"),
    ],
)
def test_null_in_a_required_field_is_one_invalid_line(column, key, path):
    stored = wire_to_stored(by_name("churn-model-retrain"))
    stored.tasks[0][column][key] = None
    wire = stored_to_wire(stored.process, stored.tasks)
    problems = read_process(wire, SourceRef("db"))
    assert isinstance(problems, list) and len(problems) == 1
    line = str(problems[0])
    assert "\n" not in line
    assert f"task_definitions[{stored.tasks[0]['task_definition_name']}].{path}" in line
    assert "got null" in line


def test_default_roles_and_markets():
    cluster = {
        "existingCluster": False,
        "clusterName": "c",
        "emrServiceRole": "EMR_DefaultRole",
        "emrJobFlowRole": "custom-ec2",
        "masterInstanceGroup": {
            "instanceType": "m5",
            "instanceCount": 1,
            "awsMarket": "on_demand",
        },
    }
    from migrate.extract.stored_form import _cluster_to_wire

    wire = _cluster_to_wire(cluster, "x")["new_emr_cluster"]
    assert wire["emr_service_role"] == {"default_emr_service_role": "EMR_DefaultRole"}
    assert wire["emr_job_flow_role"] == {
        "custom_emr_job_flow_role": {"role_name": "custom-ec2"}
    }
    assert wire["master_instance"]["aws_market"] == {"on_demand": "on_demand"}


def _dag(defn: dict) -> tuple[str, dict]:
    process = read_process(defn, SourceRef("generated.json"))
    assert not isinstance(process, list), [str(p) for p in process]
    (model,) = convert_estate([process], RULES, "UTC")
    return render_dag(model), model.task_map


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(defn=definitions())
def test_any_definition_through_the_database_converts_to_the_same_dag(defn):
    served = through_database(defn)
    # An empty list the rows cannot tell from none reads back as none, so the definition
    # may fit more API generations (which the DAG's doc_md names): compare with that.
    assert _dag(served) == _dag(without_empty(defn, ONE_WAY))
    # And reading it back once more changes nothing but the order of tasks.
    again = through_database(served)
    assert _dag(again) == _dag(served)


def test_buggy_dependencies_pattern():
    defn = by_name("regional-sales-loads")
    assert doubled_dependencies(defn) == []
    buggy = with_buggy_dependencies(defn)
    pairs = doubled_dependencies(buggy)
    assert pairs
    merge = next(
        t
        for t in buggy["task_definitions"]
        if t["task_definition_name"] == "merge.global"
    )
    original = next(
        t
        for t in defn["task_definitions"]
        if t["task_definition_name"] == "merge.global"
    )
    optional = {
        d["task_definition_name"]
        for d in original["dependencies"]
        if not d["success_required"]
    }
    names = {d["task_definition_name"] for d in merge["dependencies"]}
    assert not optional & names  # real optional ones are dropped


def test_names_that_map_to_one_file_both_keep_a_file(tmp_path):
    """A process named like another's safe file form ("sales report" is stored as
    sales_report-<hash>.json) does not stop the export: both are written, each in its
    own file, and the manifest lists both."""
    from migrate.extract.writer import ExportWriter, safe_file_name

    first = "sales report"
    crafted = safe_file_name(first)[: -len(".json")]
    assert safe_file_name(crafted) == safe_file_name(first)
    out = tmp_path / "export"
    with ExportWriter(out) as writer:
        a = writer.add_definition(first, {"process_definition_name": first})
        b = writer.add_definition(crafted, {"process_definition_name": crafted})
        assert writer.add_definition(crafted, {"process_definition_name": crafted}) == b
        manifest = writer.finish({"tool": "sundial-migrate"})
    assert a != b and {a, b} <= set(manifest["files"])
    names = {
        json.loads((out / rel).read_text())["process_definition_name"] for rel in (a, b)
    }
    assert names == {first, crafted}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_any_wrong_value_in_a_row_is_that_process_skipped_never_an_exception(data):
    """A Sundial database row (or one of its task rows) with any JSON value anywhere, as
    a column or inside a JSON column: the database reader gives that process a wire
    definition or a one-line problem, never an exception that would stop the export."""
    from migrate.extract.db import DbDefinition, _convert
    from tests.sundial_strategies import json_values, replaced, value_paths

    stored = wire_to_stored(data.draw(definitions()))
    rows = {"process": stored.process, "tasks": stored.tasks}
    path = data.draw(st.sampled_from([p for p in value_paths(rows) if len(p) >= 2]))
    rows = replaced(rows, path, data.draw(json_values()))
    tasks = [t for t in rows["tasks"] if isinstance(t, dict)]
    name = str(rows["process"].get("process_definition_name"))
    got = _convert(name, rows["process"], tasks)
    assert isinstance(got, DbDefinition)
    assert (got.wire is None) == (got.problem is not None)
    if got.problem is not None:
        assert "\n" not in got.problem
