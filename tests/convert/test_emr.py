"""emr_command: one task submits Sundial's steps and watches all of them."""

from __future__ import annotations

from tests.convert.executables import NEW_CLUSTER, emr_task
from tests.convert.test_process import findings, model_of


def test_existing_cluster_steps_with_continue():
    m = model_of(emr_task(load_data=[{"source": "s3://a", "destination": "hdfs:///a"}]))
    (node,) = m.tasks
    assert node.operator.name == "SundialEmrStepsOperator"
    assert node.arguments["job_flow_id"].value == "j-ABC"
    steps = node.arguments["steps"].value.value
    assert [s["Name"] for s in steps] == ["s3-dist-cp", "agg"]
    assert {s["ActionOnFailure"] for s in steps} == {"CONTINUE"}
    # no max_runtime_seconds: the watch limit bounds the attempt, and says so
    assert node.arguments["execution_timeout"].value.seconds == 86400
    assert any(
        "gives up" in f.message
        for f in findings(m, "task_definitions[spark].executable.emr_command")
    )


def test_new_cluster_job_flow_and_exact_retries():
    m = model_of(emr_task(cluster=NEW_CLUSTER))
    (node,) = m.tasks
    assert node.operator.name == "SundialEmrJobFlowOperator"
    flow = node.arguments["job_flow_overrides"].value.value
    assert flow["Instances"]["KeepJobFlowAliveWhenNoSteps"] is False
    assert {s["ActionOnFailure"] for s in flow["Steps"]} == {"TERMINATE_CLUSTER"}
    assert node.arguments["retries"].value == 1
    (f,) = findings(m, "task_definitions[spark].max_attempts")
    assert f.severity == "exact" and "a new cluster" in f.message
    assert not [
        x for x in m.findings if x.severity == "approximated" and "retr" in x.message
    ]
