"""Wire shape <-> stored form: exact inverses on the fixture estate, Sundial's key names."""

from __future__ import annotations

import json

import pytest

from fixtures.server import load_estate
from migrate.extract.stored_form import (
    doubled_dependencies,
    stored_to_wire,
    wire_to_stored,
    with_buggy_dependencies,
)

ESTATE = load_estate()


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(
    "defn", ESTATE, ids=[d["process_definition_name"] for d in ESTATE]
)
def test_exact_inverses_on_the_estate(defn):
    stored = wire_to_stored(defn)
    wire = stored_to_wire(stored.process, stored.tasks)
    assert wire == defn
    again = wire_to_stored(wire)
    assert again == stored
    # And the stored JSON columns survive a JSON round trip (what the database does).
    assert json.loads(dump(stored.process)) == stored.process


def by_name(name):
    return next(d for d in ESTATE if d["process_definition_name"] == name)


def test_sundial_key_names():
    stored = wire_to_stored(by_name("spark-daily-aggregations"))
    emr = stored.tasks[0]["executable"]
    assert emr["type"] == "emr"
    assert emr["clazz"].startswith("com.acme")
    cluster = emr["emrClusterDetails"]
    assert cluster["existingCluster"] is False
    assert cluster["emrServiceRole"] == "acme-emr-service-role"
    assert cluster["emrJobFlowRole"] == "EMR_EC2_DefaultRole"
    assert cluster["coreInstanceGroup"] == {
        "instanceType": "r5.2xlarge",
        "instanceCount": 4,
        "awsMarket": "spot",
        "bidPriceOpt": 0.21,
        "ebsVolumeSizeOpt": 256,
    }
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
        "num_consecutive_failures": 3,
        "api_url": "https://events.eu.pagerduty.com",
    }
    assert stored.process["schedule"] == {
        "type": "cron",
        "minutes": "45",
        "hours": "3",
        "dayOfMonth": "?",
        "month": "*",
        "dayOfWeek": "*",
    }


def test_columns_renamed_and_dependencies_split():
    stored = wire_to_stored(by_name("regional-sales-loads"))
    merge = next(t for t in stored.tasks if t["task_definition_name"] == "merge.global")
    assert merge["required_dependencies"] and merge["optional_dependencies"]
    task = stored.tasks[0]
    assert {"max_execution_time", "backoff_seconds", "backoff_exponent"} <= set(task)
    legacy = wire_to_stored(by_name("legacy-crm-sync")).process
    assert legacy["is_disabled"] is True
    assert legacy["teams"] and legacy["notifications"] == []


def test_rows_as_a_real_sundial_writes_them():
    """Jackson writes nulls for absent options and always writes every key; old rows carry
    legacy teams with notify_options."""
    process = {
        "process_definition_name": "old",
        "description": None,
        "schedule": {"type": "continuous", "bufferSeconds": None},
        "overlap_action": "wait",
        "teams": [
            {"name": "Ops", "email": "ops@example.com", "notify_options": "always"}
        ],
        "is_disabled": False,
        "notifications": [],
        "created_at": "2017-01-01T00:00:00+00:00",
    }
    task = {
        "task_definition_name": "t",
        "process_definition_name": "old",
        "executable": {
            "type": "batch",
            "image": "i",
            "tag": "latest",
            "command": ["x"],
            "memory": 512,
            "vCpus": 1,
            "jobRoleArn": None,
            "environmentVariables": {},
            "jobQueue": None,
        },
        "max_attempts": 1,
        "max_execution_time": None,
        "backoff_seconds": 0,
        "backoff_exponent": 1.0,
        "required_dependencies": None,
        "optional_dependencies": None,
        "require_explicit_success": None,
    }
    wire = stored_to_wire(process, [task])
    assert wire["paused"] is False
    assert wire["schedule"] == {"continuous_schedule": {}}
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
    assert wire["task_definitions"][0]["dependencies"] == []


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
