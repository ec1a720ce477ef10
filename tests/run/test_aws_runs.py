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


def _deferred(moto, action: str) -> bool:
    """Did a deferred wait poll AWS?  The triggers' calls are aiobotocore's."""
    return bool(moto.requests(action, by_trigger=True))


def _check_success(result, parity_entry):
    context = result.describe()
    assert result.returncode == 0 and result.state == "success", context
    for task_id in parity_entry["tasks"].values():
        assert result.states[task_id] == "success", (task_id, context)


# -- Batch -------------------------------------------------------------------------------

BATCH_TASKS = ("extract-custom-queue", "load-default-queue")


def _submits(moto) -> list[dict]:
    """run-batch's SubmitJob requests (other DAGs use the same moto at the same time)."""
    return [r for r in moto.requests("submitjob") if r["jobName"] in BATCH_TASKS]


def batch_job(moto, airflow_session, parity, run_conversion):
    """run-batch twice (two days): the second run must reuse the job definitions."""
    queues = moto.batch_queues(
        "run-custom-queue", SUNDIAL_CONFIG["sundial_batch_job_queue"]
    )
    out, _ = run_conversion
    entry = parity["run-batch"]
    home = airflow_session.home("aws-batch", env=moto.airflow_env())

    def job():
        first = home.dags_test(
            entry["dag_id"], "2024-03-01", dag_file=out / entry["file"]
        )
        submits_first = len(_submits(moto))
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
    submits = _submits(moto)
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
    # the 3 s job was waited for by a trigger, not by the worker
    assert _deferred(moto, "describejobs")


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
        (request,) = [r for r in run_requests if _family(r["taskDefinition"]) == family]
        assert request["cluster"] == cluster
        (override,) = request["overrides"]["containerOverrides"]
        assert override["name"] == container["name"]
        assert override["command"] == cmd["command"]  # '{{ ds }}' stays literal
        assert _by_name(override.get("environment", [])) == _env_list(cmd)
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster)["taskArns"]
    )["tasks"]
    assert len(tasks) == 2 and all(t["lastStatus"] == "STOPPED" for t in tasks)
    assert _deferred(moto, "DescribeTasks")  # waited for by a trigger
    # the dependant ran after its required upstream
    assert [_family(r["taskDefinition"]) for r in run_requests] == [
        "run-ecs_train-full",
        "run-ecs_publish-defaults",
    ]


def _family(task_definition: str) -> str:
    """The family of a task definition ARN (or family:revision)."""
    return task_definition.rsplit("/", 1)[-1].split(":")[0]


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


def _with_cluster(file: str, shared: str, tmp_path_factory):
    """Convert one run fixture with the placeholder cluster id replaced by moto's."""
    folder = tmp_path_factory.mktemp(file.split(".")[0])
    source = folder / file
    source.write_text(
        (RUN_FIXTURES / file)
        .read_text(encoding="utf-8")
        .replace("j-RUNTESTCLUSTER", shared),
        encoding="utf-8",
    )
    out = folder / "converted"
    report = convert_run_fixtures(out, [source])
    (entry,) = report["processes"]
    return out, entry


@pytest.fixture(scope="module")
def shared_cluster(moto) -> str:
    """A long-running cluster, as the existing-cluster fixtures name one."""
    return moto.client("emr").run_job_flow(
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


def emr_job(moto, airflow_session, tmp_path_factory, shared):
    out, entry = _with_cluster("run_emr.json", shared, tmp_path_factory)
    home = airflow_session.home("aws-emr", env=moto.airflow_env(), converted=out)

    def job():
        result = home.dags_test(
            entry["dag_id"], "2024-03-01", dag_file=out / entry["file"]
        )
        return result, entry, shared

    return job


def failures_job(moto, airflow_session, tmp_path_factory, shared):
    out, entry = _with_cluster("run_aws_failures.json", shared, tmp_path_factory)
    home = airflow_session.home("aws-failures", env=moto.airflow_env(), converted=out)
    return lambda: (
        home.dags_test(entry["dag_id"], "2024-03-01", dag_file=out / entry["file"]),
        entry,
    )


@pytest.fixture(scope="module")
def aws_runs(
    moto, airflow_session, parity, run_conversion, tmp_path_factory, shared_cluster
):
    """The Batch, ECS, EMR and failure DAGs run side by side (mostly waiting on AWS)."""
    jobs = {
        "failures": failures_job(
            moto, airflow_session, tmp_path_factory, shared_cluster
        ),
        "batch": batch_job(moto, airflow_session, parity, run_conversion),
        "ecs": ecs_job(moto, airflow_session, parity, run_conversion),
        "emr": emr_job(moto, airflow_session, tmp_path_factory, shared_cluster),
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
    (request,) = [
        r
        for r in moto.requests("AddJobFlowSteps")
        if r["Steps"][0]["Name"] == cmd["job_name"]
    ]
    assert request["JobFlowId"] == shared
    (step,) = request["Steps"]
    assert step["Name"] == cmd["job_name"]
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["HadoopJarStep"] == {
        "Jar": "command-runner.jar",
        "Args": _spark_args(cmd),
    }
    emr = moto.client("emr")
    assert [
        s["Status"]["State"]
        for s in emr.list_steps(ClusterId=shared)["Steps"]
        if s["Name"] == cmd["job_name"]
    ] == ["COMPLETED"]
    # one task each, which waited until every step had COMPLETED (the new cluster then
    # ended on its own)
    new = [
        c
        for c in emr.list_clusters()["Clusters"]
        if c["Name"]
        == tasks["spark-new-cluster"]["executable"]["emr_command"]["emr_cluster"][
            "new_emr_cluster"
        ]["name"]
    ]
    assert [c["Status"]["State"] for c in new] == ["TERMINATED"]
    steps = emr.list_steps(ClusterId=new[0]["Id"])["Steps"]
    assert steps and {s["Status"]["State"] for s in steps} == {"COMPLETED"}
    assert _deferred(moto, "ListSteps")


# -- retries re-run the whole job; an attempt past max_runtime_seconds stops it ---------


def _failures(aws_runs):
    result, entry = aws_runs["failures"]
    assert result.state == "failed", result.describe()
    return result, entry["tasks"]


def test_batch_retry_submits_again_and_a_timeout_terminates_the_job(aws_runs, moto):
    result, task_ids = _failures(aws_runs)
    batch = moto.client("batch")
    submits = moto.requests("submitjob")

    def jobs(name):
        ids = [
            j["jobId"]
            for q in batch.describe_job_queues()["jobQueues"]
            for status in ("FAILED", "SUCCEEDED", "RUNNING")
            for j in batch.list_jobs(jobQueue=q["jobQueueName"], jobStatus=status)[
                "jobSummaryList"
            ]
            if j["jobName"] == name
        ]
        return batch.describe_jobs(jobs=ids)["jobs"] if ids else []

    # max_attempts 2: two attempts, each submitting a job of its own (Sundial re-ran it)
    name = "batch-fails-twice"
    assert len([r for r in submits if r["jobName"] == name]) == 2
    assert [j["status"] for j in jobs(name)] == ["FAILED", "FAILED"]
    assert result.states[task_ids[name]] == "failed"
    assert len(result.tries[task_ids[name]]) == 2
    # max_runtime_seconds 4 on a 120 s job: the attempt gave up and terminated the job
    name = "batch-too-slow"
    (job,) = jobs(name)
    assert job["status"] == "FAILED"
    assert "the wait ended" in job.get("statusReason", ""), job
    (attempt,) = result.tries[task_ids[name]]
    assert attempt.state == "failed" and attempt.end - attempt.start < 60


def test_emr_retry_starts_a_new_cluster_or_adds_the_steps_again_and_a_timeout_cancels(
    aws_runs, moto, shared_cluster
):
    result, task_ids = _failures(aws_runs)
    emr = moto.client("emr")
    # new cluster, failing step, 2 attempts: two clusters, both ended by the failure
    name = "emr-new-cluster-fails"
    flows = [
        r for r in moto.requests("RunJobFlow") if r["Name"] == "sundial-run-emr-failing"
    ]
    assert len(flows) == 2
    states = [
        c["Status"]["State"]
        for c in emr.list_clusters()["Clusters"]
        if c["Name"] == "sundial-run-emr-failing"
    ]
    assert states == ["TERMINATED_WITH_ERRORS", "TERMINATED_WITH_ERRORS"]
    assert result.states[task_ids[name]] == "failed"
    assert len(result.tries[task_ids[name]]) == 2
    # existing cluster, failing step, 2 attempts: the step was added twice
    steps = emr.list_steps(ClusterId=shared_cluster)["Steps"]
    name = "emr-existing-fails"
    assert [s["Status"]["State"] for s in steps if s["Name"] == name] == [
        "FAILED",
        "FAILED",
    ]
    assert len(result.tries[task_ids[name]]) == 2
    # existing cluster, a step past max_runtime_seconds: cancelled, as Sundial killed it
    name = "emr-existing-too-slow"
    (slow,) = [s for s in steps if s["Name"] == name]
    assert slow["Status"]["State"] == "INTERRUPTED"
    (cancel,) = moto.requests("CancelSteps")
    assert cancel["StepIds"] == [slow["Id"]]
    (attempt,) = result.tries[task_ids[name]]
    assert attempt.state == "failed" and attempt.end - attempt.start < 60
