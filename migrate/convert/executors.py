"""One mapper per Sundial executable type: a Sundial task becomes one or more Airflow tasks.

Each mapper returns a ``Unit``: the task nodes, the edges inside it, the node that carries
Sundial's retry/timeout settings (``work``) and the node whose success means the Sundial task
succeeded (``exit``).  Units of more than one node live in a TaskGroup named after the task.
Strings from Sundial only ever enter the model as constants; template fields are wrapped in
``Literal`` so Airflow never reads them as Jinja.  The large AWS request documents (a Batch job
definition, an EMR job flow, EMR steps) are ``JsonDocument``s: one string in the DAG file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from migrate.convert.ledger import FieldLedger
from migrate.jsontext import dumps_indented
from migrate.ir import DagModel, JsonDocument, Literal, Ref, TaskNode, XCom
from migrate.mapping.rules import Settings
from migrate.sundial.model import (
    BatchCommand,
    DockerCommand,
    EmrCommand,
    EmrConfiguration,
    EmrInstanceGroup,
    EnvVar,
    ExistingEmrCluster,
    NewEmrCluster,
    ProcessDefinition,
    ShellCommand,
    TaskDefinition,
)
from migrate.sundial.wire import task_path

SUPPORT = "sundial_compat"
BATCH = Ref("airflow.providers.amazon.aws.operators.batch", "BatchOperator")
ECS_RUN = Ref("airflow.providers.amazon.aws.operators.ecs", "EcsRunTaskOperator")
ECS_REGISTER = Ref(
    "airflow.providers.amazon.aws.operators.ecs", "EcsRegisterTaskDefinitionOperator"
)
EMR_CREATE = Ref(
    "airflow.providers.amazon.aws.operators.emr", "EmrCreateJobFlowOperator"
)
EMR_ADD_STEPS = Ref("airflow.providers.amazon.aws.operators.emr", "EmrAddStepsOperator")
EMR_JOB_FLOW_SENSOR = Ref(
    "airflow.providers.amazon.aws.sensors.emr", "EmrJobFlowSensor"
)
EMR_STEP_SENSOR = Ref("airflow.providers.amazon.aws.sensors.emr", "EmrStepSensor")
EMPTY = Ref("airflow.providers.standard.operators.empty", "EmptyOperator")
SHELL = Ref(f"{SUPPORT}.shell", "SundialShellOperator")
BATCH_REGISTER = Ref(f"{SUPPORT}.batch", "SundialBatchJobDefinitionOperator")

# Of the arguments DAG-level default_args may carry for the tasks (HOISTABLE, in the order
# they are added), the ones each operator takes.  Airflow 3 applies a default_args entry only
# to operators whose __init__ chain has that parameter (BaseOperatorMeta's apply_defaults);
# tests/convert/test_default_args.py checks this table against the installed Airflow.
HOISTABLE = (
    "aws_conn_id",
    "region_name",
    "emr_conn_id",
    "poke_interval",
    "mode",
    "timeout",
    "retries",
    "retry_delay",
    "execution_timeout",
)
BASE_ARGS = frozenset({"retries", "retry_delay", "execution_timeout"})
_AWS_ARGS = BASE_ARGS | {"aws_conn_id", "region_name"}
_SENSOR_ARGS = _AWS_ARGS | {"poke_interval", "mode", "timeout"}
TAKES: dict[Ref, frozenset[str]] = {
    BATCH: _AWS_ARGS,
    ECS_RUN: _AWS_ARGS,
    ECS_REGISTER: _AWS_ARGS,
    EMR_CREATE: _AWS_ARGS | {"emr_conn_id"},
    EMR_ADD_STEPS: _AWS_ARGS,
    EMR_JOB_FLOW_SENSOR: _SENSOR_ARGS,
    EMR_STEP_SENSOR: _SENSOR_ARGS,
    EMPTY: BASE_ARGS,
    SHELL: BASE_ARGS,
    BATCH_REGISTER: _AWS_ARGS,
}

# Batch job and job definition names; ECS task definition families.
_AWS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_SUNDIAL_INJECTED_ENV = (
    "graphite.address=companion, graphite.port=13290 and sundial.url=<Sundial's URL>"
)


@dataclass
class Unit:
    nodes: list[TaskNode]
    work: TaskNode
    exit: TaskNode
    edges: list[tuple[str, str]] = dataclass_field(default_factory=list)
    group_tooltip: str | None = None

    @property
    def entries(self) -> list[TaskNode]:
        downstream = {b for _, b in self.edges}
        return [n for n in self.nodes if n.task_id not in downstream]


@dataclass
class TaskContext:
    process: ProcessDefinition
    task: TaskDefinition
    settings: Settings
    ledger: FieldLedger
    dag: DagModel
    task_id: str  # sanitized id of the Sundial task (the group id for multi-node units)
    path: str = dataclass_field(init=False)  # the task's path in the definition
    _executable: str = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = task_path(self.task.name)
        self._executable = f"{self.path}.executable.{self.task.kind}"

    def field(self, *parts: str) -> str:
        return ".".join((self._executable, *parts))

    def rule(self, key: str) -> str:
        return f"setting {key} from {self.settings.origin(key)}"

    def node(self, local_id: str, operator: Ref, grouped: bool) -> TaskNode:
        full = f"{self.task_id}.{local_id}" if grouped else self.task_id
        return TaskNode(
            task_id=full,
            local_id=local_id if grouped else self.task_id,
            operator=operator,
            group=self.task_id if grouped else None,
            sundial_task=self.task.name,
        )

    def aws(
        self, node: TaskNode, region: str | None = None, region_field: str | None = None
    ) -> None:
        node.set(
            "aws_conn_id", self.settings["aws_conn_id"], (), self.rule("aws_conn_id")
        )
        if region is not None:
            node.set("region_name", region, (region_field,), "emr.region")
        else:
            node.set(
                "region_name",
                self.settings["region_name"],
                (),
                self.rule("region_name"),
            )


def map_task(ctx: TaskContext) -> Unit:
    executable = ctx.task.executable
    if isinstance(executable, ShellCommand):
        return _shell(ctx, executable)
    if isinstance(executable, BatchCommand):
        return _batch(ctx, executable)
    if isinstance(executable, DockerCommand):
        return _ecs(ctx, executable)
    return _emr(ctx, executable)


# -- AWS specs written next to the DAGs ---------------------------------------------------


def spec_json(value) -> str:
    """``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"``, faster
    (3.5x on a job definition; see migrate/jsontext.py)."""
    return dumps_indented(value, sort_keys=True)


# -- environment variables and secrets ---------------------------------------------------


def split_env(ctx: TaskContext, env: tuple[EnvVar, ...], env_field: str):
    """Plain variables (name -> value) and secret ones (name -> Airflow Variable key)."""
    pattern = re.compile(ctx.settings["secret_env_pattern"])
    plain: dict[str, str] = {}
    secret: dict[str, str] = {}
    inline = ctx.settings["inline_secrets"]
    inlined = []
    for var in env:
        if pattern.search(var.name) and inline:
            plain[var.name] = var.value
            inlined.append(var.name)
        elif pattern.search(var.name):
            key = "sundial_" + re.sub(
                r"[^a-z0-9_]",
                "_",
                f"{ctx.dag.dag_id}__{ctx.task_id}__{var.name}".lower(),
            )
            secret[var.name] = key
            ctx.dag.to_create.append(
                (
                    "variable",
                    key,
                    f"value of env var {var.name!r} of Sundial task {ctx.task.name!r} "
                    "(kept out of the DAG file because its name looks secret)",
                )
            )
        else:
            plain[var.name] = var.value
    if inlined:
        ctx.ledger.manual(
            env_field,
            f"SECRET VALUES WRITTEN INTO THE DAG FILE: {', '.join(inlined)} "
            f"(inline_secrets from {ctx.settings.origin('inline_secrets')}); anyone who can read "
            "the DAGs folder can read them. Move them to Airflow Variables",
        )
    elif not env:
        ctx.ledger.exact(env_field, "no environment variables")
    else:
        message = "environment variables passed to the task unchanged"
        if secret:
            message += (
                f"; {', '.join(sorted(secret))} read at run time from Airflow Variables "
                f"{', '.join(sorted(secret.values()))} (create them; see the report's list)"
            )
            ctx.ledger.manual(env_field, message)
        else:
            ctx.ledger.exact(env_field, message)
    return plain, secret


def _jinja_variable(key: str) -> str:
    # key is built from [a-z0-9_] only, so this template is ours, never Sundial data.
    assert re.fullmatch(r"[a-z0-9_]+", key)
    return "{{ var.value." + key + " }}"


def _aws_env(plain: dict[str, str], secret: dict[str, str]) -> list:
    """An AWS ``environment`` list; plain values literal, secrets rendered from Variables."""
    items: list = [Literal({"name": k, "value": v}) for k, v in plain.items()]
    items += [
        {"name": Literal(k), "value": _jinja_variable(v)}
        for k, v in sorted(secret.items())
    ]
    return items


def _aws_name(ctx: TaskContext, name: str, what: str, field_path: str) -> str:
    if _AWS_NAME.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:128] or "sundial"
    ctx.ledger.approximated(
        field_path,
        f"{what} {name!r} is not a valid AWS name; using {cleaned!r}",
    )
    return cleaned


# -- shell ---------------------------------------------------------------------------------


def _shell(ctx: TaskContext, cmd: ShellCommand) -> Unit:
    node = ctx.node("run", SHELL, grouped=False)
    ctx.dag.support_modules.add("shell")
    node.set("script", cmd.script, (ctx.field("script"),), "executor.shell")
    ctx.ledger.exact(
        ctx.field("script"),
        "run as `bash <file>` exactly as Sundial did, with no Jinja rendering and no "
        "template-file lookup (SundialShellOperator)",
    )
    _shell_working_directory(ctx, node)
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    if plain:
        node.set(
            "env", plain, (ctx.field("environment_variables"),), "executor.shell.env"
        )
    if secret:
        node.set(
            "secret_env",
            secret,
            (ctx.field("environment_variables"),),
            "executor.shell.secret_env",
        )
    node.set(
        "require_explicit_success",
        ctx.task.require_explicit_success,
        (f"{ctx.path}.require_explicit_success",),
        "executor.shell.explicit_success",
    )
    ctx.ledger.exact(
        f"{ctx.path}.require_explicit_success",
        (
            "**status=success / **status=failure honoured as Sundial did"
            if ctx.task.require_explicit_success
            else "exit code decides, as in Sundial (a printed **status= line is ignored)"
        ),
    )
    return Unit([node], work=node, exit=node)


SUNDIAL_SHELL_DIRECTORY = (
    "Sundial ran every shell script in its service's own working directory (its shell "
    "executor, app/service/ShellCommandExecutor.scala, starts `bash <file>` without a "
    "directory of its own): one directory shared by every shell task of every process "
    "and kept between runs, so a file a script wrote relative to it (e.g. "
    "ledger/progress.txt) was there for later tasks and runs"
)


def _shell_working_directory(ctx: TaskContext, node: TaskNode) -> None:
    directory = ctx.settings["shell_working_directory"]
    where = ctx.rule("shell_working_directory")
    if directory is None:
        ctx.ledger.note(
            "approximated",
            ctx.field(),
            "working directory: a fresh temporary directory for each attempt, removed "
            f"when the attempt ends ({where}). {SUNDIAL_SHELL_DIRECTORY}; here such a "
            "file is gone when the attempt ends. Set shell_working_directory to a "
            "directory every worker shares if a script relies on files beside it",
        )
        return
    node.set(
        "working_directory",
        directory,
        (ctx.field(),),
        "executor.shell.working_directory",
    )
    ctx.ledger.note(
        "approximated",
        ctx.field(),
        f"working directory: {directory} on the worker ({where}), shared by every shell "
        f"task it runs and kept between runs. {SUNDIAL_SHELL_DIRECTORY}; the same only "
        "if every worker that runs shell tasks sees this one directory (a single "
        "worker, or a shared filesystem)",
    )


# -- AWS Batch -------------------------------------------------------------------------------


def _batch(ctx: TaskContext, cmd: BatchCommand) -> Unit:
    name = _aws_name(
        ctx,
        ctx.task.name,
        "job definition / job name",
        f"{ctx.path}.task_definition_name",
    )
    queue_field = ctx.field("job_queue")
    renames = ctx.settings["batch_job_queue_renames"] or {}
    if ctx.settings["batch_job_queue"]:
        queue = ctx.settings["batch_job_queue"]
        queue_rule = ctx.rule("batch_job_queue")
    elif cmd.job_queue is not None:
        queue = cmd.job_queue
        queue_rule = "executor.batch.job_queue"
    else:
        queue = ctx.settings["sundial_batch_job_queue"]
        queue_rule = ctx.rule("sundial_batch_job_queue")
    if queue in renames:
        queue, queue_rule = renames[queue], ctx.rule("batch_job_queue_renames")
    if cmd.job_queue is not None:
        ctx.ledger.exact(queue_field, f"job queue {queue!r} ({queue_rule})")
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    spec = {
        "jobDefinitionName": name,
        "type": "container",
        "containerProperties": {
            "image": f"{cmd.image}:{cmd.tag}",
            "command": list(cmd.command),
            "resourceRequirements": [
                {"type": "VCPU", "value": str(cmd.vcpus)},
                {"type": "MEMORY", "value": str(cmd.memory)},
            ],
            "environment": [{"name": k, "value": v} for k, v in plain.items()],
        },
    }
    if cmd.job_role_arn:
        spec["containerProperties"]["jobRoleArn"] = cmd.job_role_arn
    spec_fields = tuple(
        ctx.field(f)
        for f in ("image", "tag", "command", "vCpus", "memory", "job_role_arn")
    )
    for f in ("image", "tag", "command", "vCpus", "memory", "job_role_arn"):
        ctx.ledger.exact(ctx.field(f), f"carried into Batch job definition {name!r}")
    spec_file = f"aws/batch/job_definitions/{name}.json"
    ctx.dag.aux_files[spec_file] = spec_json(
        {**spec, "secretEnvironmentFromAirflowVariables": secret}
    )

    register = ctx.settings["batch_job_definitions"] == "register"
    submit = ctx.node("submit_job", BATCH, grouped=register)
    submit.set(
        "job_name",
        Literal(name),
        (f"{ctx.path}.task_definition_name",),
        "executor.batch.job_name",
    )
    submit.set(
        "job_definition",
        Literal(name),
        (f"{ctx.path}.task_definition_name",),
        "executor.batch.job_definition",
    )
    submit.set("job_queue", Literal(queue), (queue_field,), queue_rule)
    submit.set(
        "container_overrides",
        {"command": Literal(list(cmd.command)), "environment": _aws_env(plain, secret)},
        (ctx.field("command"), ctx.field("environment_variables")),
        "executor.batch.overrides",
    )
    ctx.aws(submit)
    ctx.ledger.note(
        "approximated",
        f"{ctx.path}.executable.batch_image_command",
        f"Sundial also injected {_SUNDIAL_INJECTED_ENV}; they point at Sundial's companion and "
        "API and are not reproduced",
    )
    if ctx.task.require_explicit_success:
        ctx.ledger.manual(
            f"{ctx.path}.require_explicit_success",
            "the container had to call Sundial's POST /api/tasks/{id}/succeed; there is no such "
            "endpoint in Airflow, so the job's exit code decides: make the container exit non-zero "
            "where it used to skip the success call",
        )
    if not register:
        ctx.ledger.manual(
            ctx.field("image"),
            f"job definition {name!r} must exist before the DAG runs: register {spec_file}",
        )
        return Unit([submit], work=submit, exit=submit)
    reg = ctx.node("register_job_definition", BATCH_REGISTER, grouped=True)
    ctx.dag.support_modules.add("batch")
    reg.set(
        "job_definition", JsonDocument(spec), spec_fields, "executor.batch.register"
    )
    if secret:
        reg.set(
            "secret_env",
            secret,
            (ctx.field("environment_variables"),),
            "executor.batch.secret_env",
        )
    ctx.aws(reg)
    return Unit(
        [reg, submit],
        work=submit,
        exit=submit,
        edges=[(reg.task_id, submit.task_id)],
        group_tooltip=f"Sundial task {ctx.task.name}: register (or reuse) the job definition, submit the job",
    )


# -- ECS -----------------------------------------------------------------------------------


def _ecs(ctx: TaskContext, cmd: DockerCommand) -> Unit:
    family = _aws_name(
        ctx,
        f"{ctx.process.name}_{ctx.task.name}",
        "ECS task definition family",
        f"{ctx.path}.task_definition_name",
    )
    cpu = cmd.cpu if cmd.cpu is not None else ctx.settings["sundial_ecs_default_cpu"]
    memory = (
        cmd.memory
        if cmd.memory is not None
        else ctx.settings["sundial_ecs_default_memory"]
    )
    for key, value, default_key in (
        ("cpu", cmd.cpu, "sundial_ecs_default_cpu"),
        ("memory", cmd.memory, "sundial_ecs_default_memory"),
    ):
        if value is not None:
            ctx.ledger.exact(ctx.field(key), f"container {key} {value}")
        else:
            ctx.ledger.note(
                "exact",
                f"{ctx.path}.executable.docker_image_command",
                f"{key} not set: Sundial's default {ctx.settings[default_key]} used ({ctx.rule(default_key)})",
            )
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    container = {
        "name": "sundialTask",
        "image": f"{cmd.image}:{cmd.tag}",
        "command": list(cmd.command),
        "cpu": cpu,
        "memory": memory,
        "essential": True,
    }
    register_kwargs = {"requiresCompatibilities": [ctx.settings["ecs_launch_type"]]}
    if cmd.task_role_arn:
        register_kwargs["taskRoleArn"] = cmd.task_role_arn
        ctx.ledger.exact(ctx.field("taskRoleArn"), "task role of the task definition")
    for f in ("image", "tag", "command"):
        ctx.ledger.exact(
            ctx.field(f), f"carried into task definition family {family!r}"
        )
    if not cmd.log_paths:
        ctx.ledger.exact(ctx.field("log_paths"), "no log files to ship")
    else:
        ctx.ledger.approximated(
            ctx.field("log_paths"),
            "Sundial's log-shipping companion container tailed these files into CloudWatch group "
            f"sundial/{ctx.process.name}/{ctx.task.name}; Airflow runs the job container alone. "
            "Log to stdout and use the awslogs driver (EcsRunTaskOperator awslogs_group) instead",
        )
    cluster = ctx.settings["ecs_cluster"] or ctx.settings["sundial_ecs_cluster"]
    cluster_rule = ctx.rule(
        "ecs_cluster" if ctx.settings["ecs_cluster"] else "sundial_ecs_cluster"
    )
    ctx.dag.aux_files[f"aws/ecs/task_definitions/{family}.json"] = spec_json(
        {
            "family": family,
            "containerDefinitions": [
                {
                    **container,
                    "environment": [{"name": k, "value": v} for k, v in plain.items()],
                }
            ],
            **register_kwargs,
            "secretEnvironmentFromAirflowVariables": secret,
        }
    )

    reg = ctx.node("register_task_definition", ECS_REGISTER, grouped=True)
    reg.set(
        "family",
        Literal(family),
        (f"{ctx.path}.task_definition_name",),
        "executor.ecs.family",
    )
    reg.set(
        "container_definitions",
        [
            {
                **{k: Literal(v) for k, v in container.items()},
                "environment": _aws_env(plain, secret),
            }
        ],
        (
            ctx.field("image"),
            ctx.field("tag"),
            ctx.field("command"),
            ctx.field("cpu"),
            ctx.field("memory"),
        ),
        "executor.ecs.container",
    )
    reg.set(
        "register_task_kwargs",
        Literal(register_kwargs),
        (ctx.field("taskRoleArn"),),
        "executor.ecs.register",
    )
    ctx.aws(reg)
    run = ctx.node("run_task", ECS_RUN, grouped=True)
    run.set(
        "task_definition",
        Literal(family),
        (f"{ctx.path}.task_definition_name",),
        "executor.ecs.family",
    )
    run.set("cluster", Literal(cluster), (), cluster_rule)
    run.set(
        "overrides",
        {
            "containerOverrides": [
                {
                    "name": "sundialTask",
                    "command": Literal(list(cmd.command)),
                    "environment": _aws_env(plain, secret),
                }
            ]
        },
        (ctx.field("command"), ctx.field("environment_variables")),
        "executor.ecs.overrides",
    )
    run.set(
        "launch_type", ctx.settings["ecs_launch_type"], (), ctx.rule("ecs_launch_type")
    )
    ctx.aws(run)
    ctx.ledger.note(
        "approximated",
        f"{ctx.path}.executable.docker_image_command",
        f"Sundial also injected {_SUNDIAL_INJECTED_ENV} and ran a companion container; not reproduced. "
        "EcsRegisterTaskDefinitionOperator registers a new revision on every run where Sundial reused "
        "an unchanged one",
    )
    if ctx.task.require_explicit_success:
        ctx.ledger.manual(
            f"{ctx.path}.require_explicit_success",
            "the container had to call Sundial's succeed endpoint; in Airflow its exit code decides",
        )
    return Unit(
        [reg, run],
        work=run,
        exit=run,
        edges=[(reg.task_id, run.task_id)],
        group_tooltip=f"Sundial task {ctx.task.name}: register the task definition, run it on ECS",
    )


# -- EMR -------------------------------------------------------------------------------------


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


def _instance_group(role: str, group: EmrInstanceGroup) -> dict:
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


def _configuration(c: EmrConfiguration) -> dict:
    result: dict = {}
    if c.classification is not None:
        result["Classification"] = c.classification
    if c.properties:
        result["Properties"] = dict(c.properties)
    if c.configurations:
        result["Configurations"] = [_configuration(x) for x in c.configurations]
    return result


def job_flow(cluster: NewEmrCluster, steps: list[dict]) -> dict:
    instances: dict = {
        "KeepJobFlowAliveWhenNoSteps": False,
        "InstanceGroups": [
            _instance_group(role, g)
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
        result["Configurations"] = [_configuration(c) for c in cluster.configurations]
    if cluster.security_configuration:
        result["SecurityConfiguration"] = cluster.security_configuration
    return result


def _emr(ctx: TaskContext, cmd: EmrCommand) -> Unit:
    steps = emr_steps(cmd)
    step_fields = tuple(
        ctx.field(f)
        for f in (
            "job_name",
            "class",
            "s3_jar_path",
            "spark_conf",
            "spark_packages",
            "args",
            "load_data",
            "save_results",
        )
    )
    for f in step_fields:
        ctx.ledger.exact(f, "carried into the EMR steps exactly as Sundial built them")
    ctx.ledger.exact(ctx.field("region"), "region_name of the EMR tasks")
    if cmd.s3_log_details is not None:
        ctx.ledger.approximated(
            ctx.field("s3_log_details"),
            "Sundial streamed the step's CloudWatch logs "
            f"(group {cmd.s3_log_details[0]!r}, stream {cmd.s3_log_details[1]!r}) into its live log view; "
            "Airflow's EMR tasks do not show them: read them in CloudWatch",
        )
    timeout = ctx.task.max_runtime_seconds or ctx.settings["emr_watch_timeout_seconds"]
    timeout_fields = (
        (f"{ctx.path}.max_runtime_seconds",) if ctx.task.max_runtime_seconds else ()
    )
    timeout_rule = (
        "task.max_runtime_seconds"
        if ctx.task.max_runtime_seconds
        else ctx.rule("emr_watch_timeout_seconds")
    )
    cluster_field = ctx.field("emr_cluster")
    if isinstance(cmd.cluster, NewEmrCluster):
        create = ctx.node("create_job_flow", EMR_CREATE, grouped=True)
        create.set(
            "job_flow_overrides",
            Literal(JsonDocument(job_flow(cmd.cluster, steps))),
            (cluster_field, *step_fields),
            "executor.emr.new_cluster",
        )
        create.set(
            "emr_conn_id", ctx.settings["emr_conn_id"], (), ctx.rule("emr_conn_id")
        )
        ctx.aws(create, cmd.region, ctx.field("region"))
        ctx.ledger.exact(
            cluster_field,
            "new cluster with the same instance groups, market/bid, EBS, release label, applications, "
            "configurations, roles, subnet, security configuration and log URI; "
            "KeepJobFlowAliveWhenNoSteps=false so the cluster ends with the job",
        )
        watch = ctx.node("watch_job_flow", EMR_JOB_FLOW_SENSOR, grouped=True)
        watch.set("job_flow_id", XCom(create.task_id), (), "executor.emr.watch")
        watch.set("target_states", ["TERMINATED"], (), "executor.emr.watch")
        watch.set("failed_states", ["TERMINATED_WITH_ERRORS"], (), "executor.emr.watch")
        watch.set("timeout", timeout, timeout_fields, timeout_rule)
        watch.set("poke_interval", 60, (), "executor.emr.watch")
        watch.set("mode", "reschedule", (), "executor.emr.watch")
        ctx.aws(watch, cmd.region, ctx.field("region"))
        _emr_retry_finding(ctx)
        return Unit(
            [create, watch],
            work=create,
            exit=watch,
            edges=[(create.task_id, watch.task_id)],
            group_tooltip=f"Sundial task {ctx.task.name}: EMR cluster with the job's steps, watched until it ends",
        )
    cluster_id = cmd.cluster.cluster_id
    add = ctx.node("add_steps", EMR_ADD_STEPS, grouped=True)
    add.set(
        "job_flow_id",
        Literal(cluster_id),
        (cluster_field,),
        "executor.emr.existing_cluster",
    )
    add.set("steps", Literal(JsonDocument(steps)), step_fields, "executor.emr.steps")
    add.set("wait_for_completion", False, (), "executor.emr.existing_cluster")
    ctx.aws(add, cmd.region, ctx.field("region"))
    ctx.ledger.exact(
        cluster_field,
        f"steps added to cluster {cluster_id!r} with ActionOnFailure=CONTINUE, as Sundial's "
        "EMR executor added them (app/service/emr/EmrServiceExecutor.scala); every step is "
        "watched and the task fails if any step fails",
    )
    nodes = [add]
    edges = []
    done = ctx.node("steps_done", EMPTY, grouped=True)
    for i in range(len(steps)):
        sensor = ctx.node(f"watch_step_{i + 1}", EMR_STEP_SENSOR, grouped=True)
        sensor.set(
            "job_flow_id", Literal(cluster_id), (cluster_field,), "executor.emr.watch"
        )
        # Our own template over a sanitized task id: no Sundial text inside.
        sensor.set(
            "step_id",
            "{{ ti.xcom_pull(task_ids='" + add.task_id + "')[" + str(i) + "] }}",
            (),
            "executor.emr.watch",
        )
        sensor.set("timeout", timeout, timeout_fields, timeout_rule)
        sensor.set("poke_interval", 60, (), "executor.emr.watch")
        sensor.set("mode", "reschedule", (), "executor.emr.watch")
        ctx.aws(sensor, cmd.region, ctx.field("region"))
        nodes.append(sensor)
        edges += [(add.task_id, sensor.task_id), (sensor.task_id, done.task_id)]
    nodes.append(done)
    _emr_retry_finding(ctx)
    return Unit(
        nodes,
        work=add,
        exit=done,
        edges=edges,
        group_tooltip=f"Sundial task {ctx.task.name}: add the job's steps to {cluster_id}, watch every step",
    )


def _emr_retry_finding(ctx: TaskContext) -> None:
    if ctx.task.max_attempts > 1:
        ctx.ledger.approximated(
            f"{ctx.path}.max_attempts",
            f"Sundial re-ran the whole EMR job up to {ctx.task.max_attempts} times; in Airflow the "
            "retries re-submit the job but a failed watch does not start a new one: clear the task "
            "group to re-run it",
        )
