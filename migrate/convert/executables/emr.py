"""``emr_command``: one Airflow task submits Sundial's steps and watches them until every one
has completed, as Sundial's EMR executor did (app/service/emr/EmrServiceExecutor.scala).
A new cluster: SundialEmrJobFlowOperator creates it with the steps; an existing cluster:
SundialEmrStepsOperator adds them."""

from __future__ import annotations

from migrate.convert.executables import aws
from migrate.convert.executables.context import SUPPORT, TaskContext
from migrate.ir import JsonDocument, Ref, Seconds, TaskNode
from migrate.sundial.model import (
    EmrCommand,
    EmrConfiguration,
    EmrInstanceGroup,
    ExistingEmrCluster,
    NewEmrCluster,
)

NEW_CLUSTER = Ref(f"{SUPPORT}.emr", "SundialEmrJobFlowOperator")
EXISTING_CLUSTER = Ref(f"{SUPPORT}.emr", "SundialEmrStepsOperator")
STEP_FIELDS = (
    "job_name",
    "class",
    "s3_jar_path",
    "spark_conf",
    "spark_packages",
    "args",
    "load_data",
    "save_results",
)


def emr_steps(cmd: EmrCommand) -> list[dict]:
    """The steps Sundial submitted, in its order, with its ActionOnFailure choices."""
    existing = isinstance(cmd.cluster, ExistingEmrCluster)

    def copy(c) -> dict:
        return {
            "Name": "s3-dist-cp",
            "ActionOnFailure": "CONTINUE" if existing else "TERMINATE_CLUSTER",
            "HadoopJarStep": {
                "Jar": "command-runner.jar",
                "Args": [
                    "s3-dist-cp",
                    "--s3Endpoint=s3.amazonaws.com",
                    f"--src={c.source}",
                    f"--dest={c.destination}",
                ],
            },
        }

    args = ["spark-submit"]
    for conf in cmd.spark_conf:
        args += ["--conf", conf]
    if cmd.spark_packages:
        args += ["--packages", ",".join(p.coordinate() for p in cmd.spark_packages)]
    args += ["--class", cmd.main_class, cmd.s3_jar_path, *cmd.args]
    spark = {
        "Name": cmd.job_name,
        "ActionOnFailure": "CONTINUE" if existing else "TERMINATE_CLUSTER",
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
    }
    return [
        *(copy(c) for c in cmd.load_data),
        spark,
        *(copy(c) for c in cmd.save_results),
    ]


def instance_group(role: str, group: EmrInstanceGroup) -> dict:
    result: dict = {
        "InstanceRole": role,
        "Market": group.market,
        "InstanceType": group.instance_type,
        "InstanceCount": group.instance_count,
    }
    if group.bid_price is not None:
        result["BidPrice"] = group.bid_price
    if group.ebs_volume_size is not None:
        result["EbsConfiguration"] = {
            "EbsBlockDeviceConfigs": [
                {
                    "VolumeSpecification": {
                        "VolumeType": "gp2",
                        "SizeInGB": group.ebs_volume_size,
                    },
                    "VolumesPerInstance": 1,
                }
            ],
            "EbsOptimized": True,
        }
    return result


def configuration(c: EmrConfiguration) -> dict:
    result: dict = {}
    if c.classification is not None:
        result["Classification"] = c.classification
    if c.properties:
        result["Properties"] = dict(c.properties)
    if c.configurations:
        result["Configurations"] = [configuration(x) for x in c.configurations]
    return result


def job_flow(cluster: NewEmrCluster, steps: list[dict]) -> dict:
    instances: dict = {
        "KeepJobFlowAliveWhenNoSteps": False,
        "InstanceGroups": [
            instance_group(role, g)
            for role, g in (
                ("MASTER", cluster.master),
                ("CORE", cluster.core),
                ("TASK", cluster.task),
            )
            if g is not None
        ],
    }
    if cluster.ec2_subnet:
        instances["Ec2SubnetId"] = cluster.ec2_subnet
    result: dict = {
        "Name": cluster.name,
        "ReleaseLabel": cluster.release_label,
        "LogUri": cluster.s3_log_uri,
        "Applications": [{"Name": a} for a in cluster.applications],
        "ServiceRole": cluster.service_role,
        "JobFlowRole": cluster.job_flow_role,
        "VisibleToAllUsers": cluster.visible_to_all_users,
        "Instances": instances,
        "Steps": steps,
    }
    if cluster.configurations:
        result["Configurations"] = [configuration(c) for c in cluster.configurations]
    if cluster.security_configuration:
        result["SecurityConfiguration"] = cluster.security_configuration
    return result


def map_emr(ctx: TaskContext, cmd: EmrCommand) -> TaskNode:
    steps = emr_steps(cmd)
    step_fields = tuple(ctx.field(f) for f in STEP_FIELDS)
    for f in step_fields:
        ctx.ledger.exact(f, "carried into the EMR steps exactly as Sundial built them")
    ctx.ledger.exact(ctx.field("region"), "region_name of the EMR task")
    if cmd.s3_log_details is not None:
        ctx.ledger.approximated(
            ctx.field("s3_log_details"),
            "Sundial streamed the step's CloudWatch logs "
            f"(group {cmd.s3_log_details[0]!r}, stream {cmd.s3_log_details[1]!r}) into its "
            "live log view; Airflow's EMR tasks do not show them: read them in CloudWatch",
        )
    cluster_field = ctx.field("emr_cluster")
    if isinstance(cmd.cluster, NewEmrCluster):
        node = ctx.node(NEW_CLUSTER, "emr")
        node.set(
            "job_flow_overrides",
            JsonDocument(job_flow(cmd.cluster, steps)),
            (cluster_field, *step_fields),
            "executor.emr.new_cluster",
        )
        node.set(
            "emr_conn_id", ctx.settings["emr_conn_id"], (), ctx.rule("emr_conn_id")
        )
        ctx.ledger.exact(
            cluster_field,
            "new cluster with the same instance groups, market/bid, EBS, release label, "
            "applications, configurations, roles, subnet, security configuration and log "
            "URI; KeepJobFlowAliveWhenNoSteps=false so the cluster ends with the job; the "
            "task succeeds when every step has COMPLETED and fails as soon as one has not; "
            "an attempt that does not succeed terminates its cluster",
        )
        what = "a new EMR cluster with the job's steps"
    else:
        cluster_id = cmd.cluster.cluster_id
        node = ctx.node(EXISTING_CLUSTER, "emr")
        node.set("job_flow_id", cluster_id, (cluster_field,), "executor.emr.existing")
        node.set("steps", JsonDocument(steps), step_fields, "executor.emr.steps")
        ctx.ledger.exact(
            cluster_field,
            f"steps added to cluster {cluster_id!r} with ActionOnFailure=CONTINUE, as "
            "Sundial's EMR executor added them; the task succeeds when every step has "
            "COMPLETED and fails as soon as one FAILED, was CANCELLED or INTERRUPTED; an "
            "attempt that times out cancels its steps, as Sundial did",
        )
        what = "the job's steps"
    aws.connection(ctx, node, cmd.region, ctx.field("region"))
    aws.wait(ctx, node, "waiter_delay", what)
    if ctx.task.max_runtime_seconds is None:
        limit = ctx.settings["emr_watch_timeout_seconds"]
        node.set(
            "execution_timeout",
            Seconds(limit),
            (),
            ctx.rule("emr_watch_timeout_seconds"),
        )
        ctx.ledger.note(
            "approximated",
            ctx.field(),
            f"Sundial watched the steps for as long as they ran; this task gives up (and "
            f"stops them) after {limit} s ({ctx.rule('emr_watch_timeout_seconds')})",
        )
    if ctx.task.max_attempts > 1:
        ctx.ledger.exact(
            f"{ctx.path}.max_attempts",
            f"retries={ctx.task.max_attempts - 1}: each attempt runs the whole EMR job "
            "again (a new cluster, or its steps added again), as Sundial re-ran it",
        )
    return node
