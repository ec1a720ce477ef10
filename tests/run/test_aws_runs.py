"""Generated Batch, ECS and EMR DAGs run in real Airflow 3.3 against a real moto server.

What reached "AWS" is read back from moto (describe calls) and from moto's request
recorder, and compared with what Sundial's executors did, computed here from the
fixture definitions.  Sundial's own service configuration (default Batch queue, ECS
cluster, ECS default cpu/memory) is what mappings/default.yaml says it was.

moto gaps and how they are bridged:
- Batch: moto's simple backend (``use_docker: false``) finishes jobs at once: nothing to do.
- ECS: moto never finishes a container (``lastStatus: PENDING``); the moto server is
  patched (tests/run/moto_ecs_patch) so a STOPPED task's containers are STOPPED with exit 0,
  and moto's state manager lets tasks reach STOPPED at once.  Marking run_task successful
  (--mark-success-pattern) instead would skip the very RunTask request under test.
- EMR, new cluster: the test ends the cluster through the EMR API as soon as moto has
  created it (moto leaves it RUNNING); the generated EmrJobFlowSensor then really pokes
  and sees TERMINATED.
- EMR, existing cluster: moto leaves steps RUNNING and offers no way to complete them, so
  the pure waiting tasks (``watch_step_N``, EmrStepSensor) are marked successful with
  ``airflow dags test --mark-success-pattern``; AddJobFlowSteps itself runs for real.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import yaml

from tests.run.harness import ROOT, RUN_FIXTURES, convert_run_fixtures, run_parallel
from tests.run.sundial_rules import load_processes

pytestmark = pytest.mark.slow

SUNDIAL_CONFIG = yaml.safe_load(
    (ROOT / "mappings" / "default.yaml").read_text(encoding="utf-8")
)["defaults"]
ACCOUNT = "123456789012"


def _tasks(file: str, process: str) -> dict[str, dict]:
    definition = load_processes(RUN_FIXTURES / file)[process]
    return {t["task_definition_name"]: t for t in definition["task_definitions"]}


def _env_list(executable: dict) -> list[dict]:
    return _by_name(
        {"name": v["variable_name"], "value": v["value"]}
        for v in executable.get("environment_variables", [])
    )


def _by_name(env) -> list[dict]:
    """Sundial kept env vars in a map: the same pairs, compared in one order."""
    return sorted(env, key=lambda e: e["name"])


def _check_success(result, parity_entry):
    context = result.describe()
    assert result.returncode == 0 and result.state == "success", context
    for task_id in parity_entry["tasks"].values():
        assert result.states[task_id] == "success", (task_id, context)


# -- Batch -------------------------------------------------------------------------------


def batch_job(moto, airflow_session, parity, run_conversion):
    """run-batch twice (two days): the second run must reuse the job definitions."""
    iam, batch = moto.client("iam"), moto.client("batch")
    role = iam.create_role(
        RoleName="sundial-batch-service",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    env_arn = batch.create_compute_environment(
        computeEnvironmentName="sundial-run-ce",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role,
    )["computeEnvironmentArn"]
    queues = {}
    for name in ("run-custom-queue", SUNDIAL_CONFIG["sundial_batch_job_queue"]):
        queues[name] = batch.create_job_queue(
            jobQueueName=name,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env_arn}],
        )["jobQueueArn"]
    out, _ = run_conversion
    entry = parity["run-batch"]
    home = airflow_session.home("aws-batch", env=moto.airflow_env())

    def job():
        first = home.dags_test(
            entry["dag_id"], "2024-03-01", dag_file=out / entry["file"]
        )
        submits_first = len(moto.requests("submitjob"))
        second = home.dags_test(
            entry["dag_id"], "2024-03-02", dag_file=out / entry["file"]
        )
        return first, second, queues, submits_first

    return job


def test_batch_job_definitions_jobs_and_overrides(aws_runs, moto, parity):
    """Job definition named after the task (image:tag, vCpus, memory, role, env), job of
    that name on the task's queue or Sundial's default queue, command/env overrides."""
    first, second, queues, submits_first = aws_runs["batch"]
    _check_success(first, parity["run-batch"])
    _check_success(second, parity["run-batch"])
    batch = moto.client("batch")
    submits = moto.requests("submitjob")
    assert submits_first == 2 and len(submits) == 4
    for name, task in _tasks("run_batch.json", "run-batch").items():
        cmd = task["executable"]["batch_image_command"]
        # Sundial: a job definition named after the task definition, registered once and
        # reused while unchanged.
        definitions = batch.describe_job_definitions(jobDefinitionName=name)[
            "jobDefinitions"
        ]
        assert len(definitions) == 1, definitions
        props = definitions[0]["containerProperties"]
        assert props["image"] == f"{cmd['image']}:{cmd['tag']}"
        assert props["command"] == cmd["command"]
        resources = {
            r["type"]: r["value"] for r in props.get("resourceRequirements", [])
        }
        assert int(resources.get("VCPU", props.get("vcpus"))) == cmd["vCpus"]
        assert int(resources.get("MEMORY", props.get("memory"))) == cmd["memory"]
        assert props.get("jobRoleArn") == cmd.get("job_role_arn")
        assert sorted(map(json.dumps, props.get("environment", []))) == sorted(
            map(json.dumps, _env_list(cmd))
        )
        # ... then a job of that name on the task's queue, or Sundial's default queue.
        queue = cmd.get("job_queue", SUNDIAL_CONFIG["sundial_batch_job_queue"])
        jobs = [
            j
            for j in batch.list_jobs(jobQueue=queue, jobStatus="SUCCEEDED")[
                "jobSummaryList"
            ]
            if j["jobName"] == name
        ]
        assert len(jobs) == 2, (name, queue, jobs)
        submitted = [r for r in submits if r["jobName"] == name]
        assert len(submitted) == 2
        for request in submitted:
            assert request["jobQueue"] in (queue, queues[queue])
            assert request["jobDefinition"] in (
                name,
                definitions[0]["jobDefinitionArn"],
            )
            overrides = request["containerOverrides"]
            assert overrides["command"] == cmd["command"]  # '{{ ds }}' stays literal
            assert _by_name(overrides.get("environment", [])) == _env_list(cmd)
    # Sundial's order: the dependant's job was submitted after the upstream's job ended.
    first_names = [r["jobName"] for r in submits[:2]]
    assert first_names == ["extract-custom-queue", "load-default-queue"]


# -- ECS ---------------------------------------------------------------------------------


def ecs_job(moto, airflow_session, parity, run_conversion):
    ecs = moto.client("ecs")
    # moto moves a task one status per describe (RUNNING ... STOPPED); let it stop at once
    # (its documented state-manager API) so the tasks_stopped waiter needs no 6 s polls.
    requests.post(
        moto.endpoint + "/moto-api/state-manager/set-transition",
        json={"model_name": "ecs::task", "transition": {"progression": "immediate"}},
        timeout=5,
    ).raise_for_status()
    cluster = SUNDIAL_CONFIG["sundial_ecs_cluster"]
    ecs.create_cluster(clusterName=cluster)
    ec2 = moto.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"]
    ecs.register_container_instance(
        cluster=cluster,
        instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
    )
    out, _ = run_conversion
    entry = parity["run-ecs"]
    home = airflow_session.home("aws-ecs", env=moto.airflow_env())
    return lambda: home.dags_test(
        entry["dag_id"], "2024-03-01", dag_file=out / entry["file"]
    )


def test_ecs_task_definitions_and_run_task(aws_runs, moto, parity):
    """Family <process>_<task>, image:tag, command, cpu/memory (Sundial's defaults when
    absent), env, task role; RunTask on Sundial's cluster with command/env overrides."""
    ecs_run = aws_runs["ecs"]
    _check_success(ecs_run, parity["run-ecs"])
    ecs = moto.client("ecs")
    cluster = SUNDIAL_CONFIG["sundial_ecs_cluster"]
    run_requests = moto.requests("RunTask")
    assert len(run_requests) == 2
    for name, task in _tasks("run_ecs.json", "run-ecs").items():
        cmd = task["executable"]["docker_image_command"]
        family = f"run-ecs_{name}"
        definition = ecs.describe_task_definition(taskDefinition=family)[
            "taskDefinition"
        ]
        (container,) = [
            c
            for c in definition["containerDefinitions"]
            if c["image"] == f"{cmd['image']}:{cmd['tag']}"
        ]
        assert container["command"] == cmd["command"]
        assert container["cpu"] == cmd.get(
            "cpu", SUNDIAL_CONFIG["sundial_ecs_default_cpu"]
        )
        assert container["memory"] == cmd.get(
            "memory", SUNDIAL_CONFIG["sundial_ecs_default_memory"]
        )
        assert _by_name(container.get("environment", [])) == _env_list(cmd)
        assert definition.get("taskRoleArn") == cmd.get("taskRoleArn")
        (request,) = [
            r
            for r in run_requests
            if r["taskDefinition"].split(":")[0].endswith(family)
        ]
        assert request["cluster"] == cluster
        (override,) = request["overrides"]["containerOverrides"]
        assert override["name"] == container["name"]
        assert override["command"] == cmd["command"]  # '{{ ds }}' stays literal
        assert _by_name(override.get("environment", [])) == _env_list(cmd)
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster)["taskArns"]
    )["tasks"]
    assert len(tasks) == 2 and all(t["lastStatus"] == "STOPPED" for t in tasks)
    # the dependant ran after its required upstream
    assert [r["taskDefinition"].split(":")[0] for r in run_requests] == [
        "run-ecs_train-full",
        "run-ecs_publish-defaults",
    ]


# -- EMR ---------------------------------------------------------------------------------


def _spark_args(cmd: dict) -> list[str]:
    args = ["spark-submit"]
    for conf in cmd.get("spark_conf", []):
        args += ["--conf", conf]
    if cmd.get("spark_packages"):
        args += [
            "--packages",
            ",".join(
                f"{p['group_id']}:{p['artifact_id']}:{p['version']}"
                for p in cmd["spark_packages"]
            ),
        ]
    return args + ["--class", cmd["class"], cmd["s3_jar_path"], *cmd["args"]]


def _copy_args(copy: dict) -> list[str]:
    return [
        "s3-dist-cp",
        "--s3Endpoint=s3.amazonaws.com",
        f"--src={copy['source']}",
        f"--dest={copy['destination']}",
    ]


def emr_job(moto, airflow_session, tmp_path_factory):
    emr = moto.client("emr")
    shared = emr.run_job_flow(
        Name="shared-cluster",
        ReleaseLabel="emr-5.20.0",
        Instances={
            "MasterInstanceType": "m5.xlarge",
            "InstanceCount": 1,
            "KeepJobFlowAliveWhenNoSteps": True,
        },
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    # The fixture names a placeholder cluster id; moto picks its own ids.
    folder = tmp_path_factory.mktemp("emr-fixture")
    source = folder / "run_emr.json"
    source.write_text(
        (RUN_FIXTURES / "run_emr.json")
        .read_text(encoding="utf-8")
        .replace("j-RUNTESTCLUSTER", shared),
        encoding="utf-8",
    )
    out = folder / "converted"
    report = convert_run_fixtures(out, [source])
    (entry,) = report["processes"]

    new_cluster_name = _tasks("run_emr.json", "run-emr")["spark-new-cluster"][
        "executable"
    ]["emr_command"]["emr_cluster"]["new_emr_cluster"]["name"]
    stop = threading.Event()

    def end_new_cluster():
        # The cluster "runs its steps and ends": moto would leave it RUNNING forever.
        watcher = moto.client("emr")
        while not stop.is_set():
            for c in watcher.list_clusters()["Clusters"]:
                if (
                    c["Name"] == new_cluster_name
                    and c["Status"]["State"] != "TERMINATED"
                ):
                    watcher.terminate_job_flows(JobFlowIds=[c["Id"]])
            time.sleep(0.2)

    home = airflow_session.home("aws-emr", env=moto.airflow_env(), converted=out)

    def job():
        thread = threading.Thread(target=end_new_cluster, daemon=True)
        thread.start()
        try:
            result = home.dags_test(
                entry["dag_id"],
                "2024-03-01",
                dag_file=out / entry["file"],
                mark_success=r".*\.watch_step_\d+",
            )
        finally:
            stop.set()
            thread.join(timeout=5)
        return result, entry, shared

    return job


@pytest.fixture(scope="module")
def aws_runs(moto, airflow_session, parity, run_conversion, tmp_path_factory):
    """The Batch, ECS and EMR DAGs run side by side (mostly waiting on AWS polls)."""
    jobs = {
        "batch": batch_job(moto, airflow_session, parity, run_conversion),
        "ecs": ecs_job(moto, airflow_session, parity, run_conversion),
        "emr": emr_job(moto, airflow_session, tmp_path_factory),
    }
    return run_parallel(jobs, workers=3)


def test_emr_new_cluster_and_existing_cluster_steps(aws_runs, moto):
    """RunJobFlow carries Sundial's cluster (instance groups, market/bid, EBS, roles,
    subnet, configurations, KeepJobFlowAliveWhenNoSteps=false) and its steps;
    AddJobFlowSteps adds the spark step to the existing cluster with CONTINUE."""
    result, entry, shared = aws_runs["emr"]
    _check_success(result, entry)
    tasks = _tasks("run_emr.json", "run-emr")

    # -- new cluster
    cmd = tasks["spark-new-cluster"]["executable"]["emr_command"]
    cluster = cmd["emr_cluster"]["new_emr_cluster"]
    (request,) = [
        r for r in moto.requests("RunJobFlow") if r["Name"] == cluster["name"]
    ]
    assert request["Name"] == cluster["name"]
    assert request["ReleaseLabel"] == cluster["release_label"]
    assert request["LogUri"] == cluster["s3_log_uri"]
    assert request["Applications"] == [{"Name": a} for a in cluster["applications"]]
    assert request["ServiceRole"] == "acme-emr-service"  # custom_emr_service_role
    assert request["JobFlowRole"] == "EMR_EC2_DefaultRole"
    assert request["VisibleToAllUsers"] is cluster["visible_to_all_users"]
    instances = request["Instances"]
    assert instances["KeepJobFlowAliveWhenNoSteps"] is False
    assert instances["Ec2SubnetId"] == cluster["ec2_subnet"]
    groups = {g["InstanceRole"]: g for g in instances["InstanceGroups"]}
    assert set(groups) == {"MASTER", "CORE"}
    for role, key in (("MASTER", "master_instance"), ("CORE", "core_instance")):
        wanted, got = cluster[key], groups[role]
        assert got["InstanceType"] == wanted["emr_instance_type"]
        assert got["InstanceCount"] == wanted["instance_count"]
        market = wanted["aws_market"]
        if "spot" in market:
            assert got["Market"] == "SPOT"
            assert float(got["BidPrice"]) == market["spot"]["bid_price"]
        else:
            assert got["Market"] == "ON_DEMAND" and "BidPrice" not in got
        if "ebs_volume_size" in wanted:
            (device,) = got["EbsConfiguration"]["EbsBlockDeviceConfigs"]
            assert (
                device["VolumeSpecification"]["SizeInGB"] == wanted["ebs_volume_size"]
            )
        else:
            assert "EbsConfiguration" not in got
    assert request["Configurations"] == [
        {
            "Classification": "spark-env",
            "Configurations": [
                {
                    "Classification": "export",
                    "Properties": {"PYSPARK_PYTHON": "/usr/bin/python3"},
                }
            ],
        }
    ]
    steps = request["Steps"]
    assert [s["HadoopJarStep"]["Args"] for s in steps] == [
        *(_copy_args(c) for c in cmd["load_data"]),
        _spark_args(cmd),  # '{{ ds }}' stays literal
        *(_copy_args(c) for c in cmd["save_results"]),
    ]
    assert all(s["HadoopJarStep"]["Jar"] == "command-runner.jar" for s in steps)
    assert all(s["ActionOnFailure"] == "TERMINATE_CLUSTER" for s in steps)
    assert steps[len(cmd["load_data"])]["Name"] == cmd["job_name"]

    # -- existing cluster
    cmd = tasks["spark-existing-cluster"]["executable"]["emr_command"]
    (request,) = moto.requests("AddJobFlowSteps")
    assert request["JobFlowId"] == shared
    (step,) = request["Steps"]
    assert step["Name"] == cmd["job_name"]
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["HadoopJarStep"] == {
        "Jar": "command-runner.jar",
        "Args": _spark_args(cmd),
    }
    emr = moto.client("emr")
    assert [s["Name"] for s in emr.list_steps(ClusterId=shared)["Steps"]] == [
        cmd["job_name"]
    ]
    # the new cluster's sensor saw the cluster end; the step sensors were marked
    states = result.states
    assert states["spark-new-cluster.watch_job_flow"] == "success"
    tries = result.tries["spark-new-cluster.watch_job_flow"]
    assert tries and tries[-1].start is not None  # it really ran (poked)
