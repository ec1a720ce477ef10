"""Sundial's two shapes of a process definition, and pure functions between them.

*Wire* shape: the REST API's apibuilder JSON (snake_case keys, unions as one-key objects,
env vars as ``[{variable_name, value}]``, an optional field left out), what
``migrate convert`` reads.

*Stored* shape: Sundial's PostgreSQL rows.  ``process_definition`` and
``task_definition_template`` columns, whose JSON columns (``schedule``, ``executable``,
``notifications``, ``teams``) are Jackson dumps of Sundial's Scala classes
(``app/model/Executable.scala`` and friends): camelCase keys plus a ``"type"``
discriminator, env vars as a map, and, Jackson's default inclusion, every field of the
class written: an ``Option`` that is ``None`` as ``null``.

``wire_to_stored`` writes what Sundial stored for a definition PUT through its API
(``app/controllers/ModelConverter.scala`` ``toInternal*``, then Jackson): API defaults
applied to fields the class always has (``tag`` "latest", an empty env map, ``paused``
false, ...), ``null`` for every absent option.  ``stored_to_wire`` renders rows the way
Sundial's GET does (``toExternal*``): ``null`` is absent at every depth, other fields are
always present.  So ``stored_to_wire(wire_to_stored(w))`` is ``w`` as a Sundial serves it
back, and ``wire_to_stored(stored_to_wire(s)) == s`` for every ``s`` that
``wire_to_stored`` writes.  What the stored form cannot tell apart comes back one way:

- dependencies: required ones first, then optional ones, ``success_required`` explicit;
- env vars: one entry per name (Sundial kept them in a map; the last one wins); a shell
  or ECS task without any has none listed, a Batch task an empty list;
- an empty ``notifications`` (or ``subscriptions``) list is left out;
- the default EMR roles carry their enum value (``"EMR_DefaultRole"``); a custom role
  named like the default reads back as the default, which is the same role.

A ``null`` where Sundial's class has no ``Option`` (an image, a command) is kept, so the
definition is reported invalid at that field.  Keys this module does not know pass through
unchanged both ways, so the export keeps them and the report names them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_SERVICE_ROLE = "EMR_DefaultRole"
DEFAULT_JOB_FLOW_ROLE = "EMR_EC2_DefaultRole"

PROCESS_COLUMNS = (
    "process_definition_name",
    "description",
    "schedule",
    "overlap_action",
    "teams",
    "is_disabled",
    "notifications",
)
TASK_COLUMNS = (
    "task_definition_name",
    "process_definition_name",
    "executable",
    "max_attempts",
    "max_execution_time",
    "backoff_seconds",
    "backoff_exponent",
    "required_dependencies",
    "optional_dependencies",
    "require_explicit_success",
)
# Columns that are stored but have no wire field.
STORED_ONLY_COLUMNS = ("created_at",)


class StoredFormError(ValueError):
    """A stored value that cannot be turned into the wire shape (or the reverse)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass
class StoredDefinition:
    """One process definition as Sundial stores it: its row and its task rows."""

    process: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)


# -- shapes: one per Scala class, its fields in declaration order -----------------------

_NO_DEFAULT = object()
OMIT = object()  # a converter's answer: leave the field out


@dataclass(frozen=True)
class Field:
    wire: str
    stored: str
    option: bool = False  # Scala Option: None is stored as null and absent on the wire
    default: Any = (
        _NO_DEFAULT  # stored when the wire leaves this (non-Option) field out
    )
    to_stored: Callable[[Any, str], Any] | None = None
    to_wire: Callable[[Any, str], Any] | None = None


class Shape:
    """The fields of one Scala class and their wire names."""

    def __init__(self, name: str, *fields: Field):
        self.name = name
        self.fields = fields
        self.by_wire = {f.wire: f for f in fields}
        self.by_stored = {f.stored: f for f in fields}

    def stored(self, body: Any, where: str) -> dict:
        body = _obj(body, where)
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.wire in body:
                value = body[f.wire]
                if f.to_stored is not None and value is not None:
                    value = f.to_stored(value, f"{where}.{f.wire}")
                out[f.stored] = value
            elif f.option:
                out[f.stored] = None
            elif f.default is not _NO_DEFAULT:
                out[f.stored] = copy.deepcopy(f.default)
        for key, value in body.items():
            if key not in self.by_wire:
                out[key] = value  # unknown: kept as it came
        return out

    def wire(self, body: Any, where: str) -> dict:
        body = _obj(body, where)
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.stored not in body:
                continue
            value = body[f.stored]
            if value is None and f.option:
                continue  # Jackson's None
            if f.to_wire is not None and value is not None:
                value = f.to_wire(value, f"{where}.{f.stored}")
                if value is OMIT:
                    continue
            out[f.wire] = value
        for key, value in body.items():
            if key not in self.by_stored:
                out[key] = value
        return out


def _each(shape: Shape) -> dict:
    """Converters for a list of ``shape`` objects."""
    return dict(
        to_stored=lambda v, p: [
            shape.stored(x, f"{p}[{i}]") for i, x in enumerate(_list(v, p))
        ],
        to_wire=lambda v, p: [
            shape.wire(x, f"{p}[{i}]") for i, x in enumerate(_list(v, p))
        ],
    )


def _env_to_stored(value: Any, where: str) -> dict:
    env: dict[str, Any] = {}
    for i, item in enumerate(_list(value, where)):
        item = _obj(item, f"{where}[{i}]")
        env[item.get("variable_name")] = item.get("value")
    return env


def _env_to_wire(value: Any, where: str) -> list:
    env = _obj(value, where)
    return [{"variable_name": k, "value": v} for k, v in env.items()]


def _env_to_wire_if_any(value: Any, where: str) -> Any:
    # Sundial renders a shell task's empty map as no env at all; an ECS task's too, so
    # that a 2016-02 definition (whose API had no ECS env) reads back as one.
    return _env_to_wire(value, where) or OMIT


_CRON = Shape(
    "CronSchedule",
    Field("minutes", "minutes"),
    Field("hours", "hours"),
    Field("day_of_month", "dayOfMonth"),
    Field("month", "month"),
    Field("day_of_week", "dayOfWeek"),
)
# ContinuousSchedule(bufferSeconds: Int): the API's absent buffer is stored as 0.
_CONTINUOUS = Shape(
    "ContinuousSchedule", Field("buffer_seconds", "bufferSeconds", default=0)
)

_SHELL = Shape(
    "ShellCommandExecutable",
    Field("script", "script"),
    Field(
        "environment_variables",
        "environmentVariables",
        default={},
        to_stored=_env_to_stored,
        to_wire=_env_to_wire_if_any,
    ),
)
_ENV = dict(default={}, to_stored=_env_to_stored, to_wire=_env_to_wire)
_ENV_IF_ANY = dict(_ENV, to_wire=_env_to_wire_if_any)
_BATCH = Shape(
    "BatchExecutable",
    Field("image", "image"),
    Field("tag", "tag", default="latest"),
    Field("command", "command"),
    Field("memory", "memory"),
    Field("vCpus", "vCpus"),
    Field("job_role_arn", "jobRoleArn", option=True),
    Field("environment_variables", "environmentVariables", **_ENV),
    Field("job_queue", "jobQueue", option=True),
)
_DOCKER = Shape(
    "ECSExecutable",
    Field("image", "image"),
    Field("tag", "tag", default="latest"),
    Field("command", "command"),
    Field("memory", "memory", option=True),
    Field("cpu", "cpu", option=True),
    Field("taskRoleArn", "taskRoleArn", option=True),
    Field("log_paths", "logPaths", default=[]),
    Field("environment_variables", "environmentVariables", **_ENV_IF_ANY),
)

# InstanceGroupDetails(instanceType, instanceCount, awsMarket, bidPriceOpt,
# ebsVolumeSizeOpt); the wire's aws_market union is split into the middle two by hand.
_GROUP = Shape(
    "InstanceGroupDetails",
    Field("emr_instance_type", "instanceType"),
    Field("instance_count", "instanceCount"),
    Field("ebs_volume_size", "ebsVolumeSizeOpt", option=True),
)


def _group_to_stored(value: Any, where: str) -> dict:
    value = _obj(value, where)
    out = _GROUP.stored({k: v for k, v in value.items() if k != "aws_market"}, where)
    if "aws_market" in value:
        member, market = _union(value["aws_market"], f"{where}.aws_market")
        out["awsMarket"] = member
        out["bidPriceOpt"] = (
            _obj(market, f"{where}.aws_market.spot").get("bid_price")
            if member == "spot"
            else None
        )
    return out


def _group_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    rest = {k: v for k, v in value.items() if k not in ("awsMarket", "bidPriceOpt")}
    out = _GROUP.wire(rest, where)
    market, bid = value.get("awsMarket", OMIT), value.get("bidPriceOpt")
    if market == "spot":
        out["aws_market"] = {"spot": {} if bid is None else {"bid_price": bid}}
    elif market == "on_demand":
        out["aws_market"] = {"on_demand": "on_demand"}
    elif market is None:
        out["aws_market"] = None  # a String in Sundial's model: invalid, and reported
    elif market is not OMIT:
        raise StoredFormError(f"{where}.awsMarket", f"unknown market {market!r}")
    elif bid is not None:
        out["bidPriceOpt"] = bid  # without a market: kept, so the report names it
    return out


def _role(which: str) -> dict:
    default_member, default_name = {
        "emr_service_role": ("default_emr_service_role", DEFAULT_SERVICE_ROLE),
        "emr_job_flow_role": ("default_emr_job_flow_role", DEFAULT_JOB_FLOW_ROLE),
    }[which]
    custom_member = default_member.replace("default_", "custom_")

    def to_stored(value: Any, where: str) -> Any:
        member, body = _union(value, where)
        if member == default_member:
            return default_name
        if member == custom_member:
            return _obj(body, where).get("role_name")
        raise StoredFormError(where, f"unknown role {member!r}")

    def to_wire(value: Any, where: str) -> dict:
        if not isinstance(value, str):
            raise StoredFormError(where, f"expected a role name, got {_kind(value)}")
        if value == default_name:
            return {default_member: default_name}
        return {custom_member: {"role_name": value}}

    return dict(option=True, to_stored=to_stored, to_wire=to_wire)


def _configurations_to_stored(value: Any, where: str) -> list:
    return [
        _CONFIGURATION.stored(x, f"{where}[{i}]")
        for i, x in enumerate(_list(value, where))
    ]


def _configurations_to_wire(value: Any, where: str) -> list:
    return [
        _CONFIGURATION.wire(x, f"{where}[{i}]")
        for i, x in enumerate(_list(value, where))
    ]


_NESTED = dict(
    option=True, to_stored=_configurations_to_stored, to_wire=_configurations_to_wire
)
# The API's EmrConfiguration (all three fields are options), nested to any depth.
_CONFIGURATION = Shape(
    "EmrConfiguration",
    Field("classification", "classification", option=True),
    Field("configurations", "configurations", **_NESTED),
    Field("properties", "properties", option=True),
)

_GROUP_FIELD = dict(option=True, to_stored=_group_to_stored, to_wire=_group_to_wire)
# EmrClusterDetails of a new cluster (clusterId None, existingCluster false).  Options the
# API always fills (release label, visibility) are stored with its defaults.
_NEW_CLUSTER = Shape(
    "EmrClusterDetails",
    Field("name", "clusterName", option=True),
    Field("release_label", "releaseLabel", option=True, default="emr-5.10.0"),
    Field("applications", "applications", default=[]),
    Field("s3_log_uri", "s3LogUri", option=True),
    Field("master_instance", "masterInstanceGroup", **_GROUP_FIELD),
    Field("core_instance", "coreInstanceGroup", **_GROUP_FIELD),
    Field("task_instance", "taskInstanceGroup", **_GROUP_FIELD),
    Field("ec2_subnet", "ec2Subnet", option=True),
    Field("emr_service_role", "emrServiceRole", **_role("emr_service_role")),
    Field("emr_job_flow_role", "emrJobFlowRole", **_role("emr_job_flow_role")),
    Field("visible_to_all_users", "visibleToAllUsers", option=True, default=False),
    Field("configurations", "configurations", **_NESTED),
    Field("security_configuration", "securityConfiguration", option=True),
)
# Jackson's dump of an existing cluster: ModelConverter sets clusterId and existingCluster
# only, so every other field is None (applications: an empty list).
_EXISTING_CLUSTER_REST = {
    **{f.stored: None for f in _NEW_CLUSTER.fields},
    "applications": [],
}


def _cluster_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    path = f"{where}.{member}"
    if member == "existing_emr_cluster":
        body = dict(_obj(body, path))
        return {
            "clusterId": body.pop("cluster_id", None),
            **_EXISTING_CLUSTER_REST,
            "existingCluster": True,
            **body,  # unknown keys: kept as they came
        }
    if member == "new_emr_cluster":
        return {
            **_NEW_CLUSTER.stored(body, path),
            "clusterId": None,
            "existingCluster": False,
        }
    raise StoredFormError(where, f"unknown EMR cluster {member!r}")


def _cluster_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    body = {k: v for k, v in value.items() if k != "existingCluster"}
    if value.get("existingCluster"):
        out: dict[str, Any] = {}
        if body.get("clusterId") is not None:
            out["cluster_id"] = body["clusterId"]
        for key, item in body.items():
            if key == "clusterId" or _EXISTING_CLUSTER_REST.get(key, OMIT) == item:
                continue
            out[key] = item  # set on an existing cluster: kept, so the report names it
        return {"existing_emr_cluster": out}
    if "clusterId" in body and body["clusterId"] is None:
        del body["clusterId"]
    return {"new_emr_cluster": _NEW_CLUSTER.wire(body, where)}


_PACKAGE = Shape(
    "MavenPackage",
    Field("group_id", "groupId"),
    Field("artifact_id", "artifactId"),
    Field("version", "version"),
)
_LOG_DETAILS = Shape(
    "LogDetails",
    Field("log_group_name", "logGroupName"),
    Field("log_stream_name", "logStreamName"),
)
_COPY = Shape(
    "CopyFileJob", Field("source", "source"), Field("destination", "destination")
)
_EMR = Shape(
    "EmrJobExecutable",
    Field(
        "emr_cluster",
        "emrClusterDetails",
        to_stored=_cluster_to_stored,
        to_wire=_cluster_to_wire,
    ),
    Field("job_name", "jobName"),
    Field("region", "region", default="us-east-1"),
    Field("class", "clazz"),
    Field("s3_jar_path", "s3JarPath"),
    Field("spark_conf", "sparkConf"),
    Field("spark_packages", "sparkPackages", default=[], **_each(_PACKAGE)),
    Field("args", "args"),
    Field(
        "s3_log_details",
        "s3LogDetailsOpt",
        option=True,
        to_stored=_LOG_DETAILS.stored,
        to_wire=_LOG_DETAILS.wire,
    ),
    Field("load_data", "loadData", option=True, **_each(_COPY)),
    Field("save_results", "saveResults", option=True, **_each(_COPY)),
)

_EXECUTABLES = {
    "shell_script_command": ("shell", _SHELL),
    "batch_image_command": ("batch", _BATCH),
    "docker_image_command": ("docker", _DOCKER),
    "emr_command": ("emr", _EMR),
}
_EXECUTABLE_TYPES = {
    stored: (wire, shape) for wire, (stored, shape) in _EXECUTABLES.items()
}

# EmailNotification(name, email, notifyAction), PagerdutyNotification(serviceKey, apiUrl,
# numConsecutiveFailures): written with a snake_case naming strategy.
_EMAIL = Shape(
    "EmailNotification",
    Field("name", "name"),
    Field("email", "email"),
    Field("notify_when", "notify_action", default="on_state_change_and_failures"),
)
_PAGERDUTY = Shape(
    "PagerdutyNotification",
    Field("service_key", "service_key"),
    Field("api_url", "api_url", default="https://events.pagerduty.com"),
    Field("num_consecutive_failures", "num_consecutive_failures", default=1),
)
_NOTIFICATIONS = {"email": _EMAIL, "pagerduty": _PAGERDUTY}


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise StoredFormError(where, f"expected an object, got {_kind(value)}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise StoredFormError(where, f"expected a list, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _union(value: Any, where: str) -> tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise StoredFormError(where, "expected an object with exactly one key")
    return next(iter(value.items()))


# -- wire -> stored -------------------------------------------------------------------


def wire_to_stored(defn: dict) -> StoredDefinition:
    """The rows Sundial stores for one wire-shape definition."""
    defn = _obj(defn, "process_definition")
    name = defn.get("process_definition_name")
    row: dict[str, Any] = {"process_definition_name": name}
    teams: list = []
    notifications: list = []
    for key, value in defn.items():
        if key == "process_definition_name":
            continue
        if key == "process_description":
            row["description"] = value
        elif key == "paused":
            row["is_disabled"] = value
        elif key == "schedule":
            row["schedule"] = _schedule_to_stored(value)
        elif key == "overlap_action":
            row["overlap_action"] = value
        elif key == "subscriptions":
            # The 2016 API's subscriptions: what that Sundial kept in the teams column.
            teams = [dict(t) for t in _list(value, "subscriptions")]
        elif key == "notifications":
            notifications = [
                _notification_to_stored(n, f"notifications[{i}]")
                for i, n in enumerate(_list(value, "notifications"))
            ]
        elif key == "task_definitions":
            continue
        else:
            row[key] = value  # unknown: kept as it came
    row.setdefault("description", None)
    row.setdefault("schedule", None)
    row.setdefault("overlap_action", "wait")
    row["teams"] = teams
    row.setdefault("is_disabled", False)  # ProcessDefinition.isPaused: Boolean
    row["notifications"] = notifications
    tasks = [
        _task_to_stored(name, t, i)
        for i, t in enumerate(
            _list(defn.get("task_definitions", []), "task_definitions")
        )
    ]
    return StoredDefinition(row, tasks)


def _schedule_to_stored(value: Any) -> dict:
    member, body = _union(value, "schedule")
    if member == "cron_schedule":
        return {"type": "cron", **_CRON.stored(body, f"schedule.{member}")}
    if member == "continuous_schedule":
        return {"type": "continuous", **_CONTINUOUS.stored(body, f"schedule.{member}")}
    raise StoredFormError("schedule", f"unknown schedule {member!r}")


def _notification_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    if member not in _NOTIFICATIONS:
        raise StoredFormError(where, f"unknown notification {member!r}")
    return {"type": member, **_NOTIFICATIONS[member].stored(body, f"{where}.{member}")}


def _task_to_stored(process: str, task: Any, index: int) -> dict:
    where = f"task_definitions[{index}]"
    task = _obj(task, where)
    row: dict[str, Any] = {
        "task_definition_name": task.get("task_definition_name"),
        "process_definition_name": process,
    }
    required: list[str] = []
    optional: list[str] = []
    for key, value in task.items():
        if key == "task_definition_name":
            continue
        if key == "executable":
            row["executable"] = _executable_to_stored(value, f"{where}.executable")
        elif key == "max_attempts":
            row["max_attempts"] = value
        elif key == "max_runtime_seconds":
            row["max_execution_time"] = value
        elif key == "backoff_base_seconds":
            row["backoff_seconds"] = value
        elif key == "backoff_exponent":
            row["backoff_exponent"] = value
        elif key == "require_explicit_success":
            row["require_explicit_success"] = value
        elif key == "dependencies":
            for j, dep in enumerate(_list(value, f"{where}.dependencies")):
                dep = _obj(dep, f"{where}.dependencies[{j}]")
                name = dep.get("task_definition_name")
                (required if dep.get("success_required", True) else optional).append(
                    name
                )
        else:
            row[key] = value
    row.setdefault("executable", None)
    row.setdefault("max_attempts", None)
    row.setdefault("max_execution_time", None)
    row.setdefault("backoff_seconds", None)
    row.setdefault("backoff_exponent", 1.0)
    row["required_dependencies"] = required
    row["optional_dependencies"] = optional
    row.setdefault("require_explicit_success", False)  # a Boolean in Sundial's model
    return row


def _executable_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    if member not in _EXECUTABLES:
        raise StoredFormError(where, f"unknown executable {member!r}")
    stored_type, shape = _EXECUTABLES[member]
    return {"type": stored_type, **shape.stored(body, f"{where}.{member}")}


# -- stored -> wire -------------------------------------------------------------------


def stored_to_wire(process: dict, tasks: list[dict]) -> dict:
    """The wire-shape definition for one process row and its task rows (in their order).

    Raises ``StoredFormError`` naming the column and field when a value has the wrong shape.
    """
    wire: dict[str, Any] = {
        "process_definition_name": process.get("process_definition_name")
    }
    if process.get("is_disabled") is not None:
        wire["paused"] = process["is_disabled"]
    if process.get("description") is not None:
        wire["process_description"] = process["description"]
    if process.get("schedule") is not None:
        wire["schedule"] = _schedule_to_wire(process["schedule"])
    task_defs = [_task_to_wire(t) for t in tasks]
    wire["task_definitions"] = task_defs
    wire["overlap_action"] = process.get("overlap_action") or "wait"
    notifications = process.get("notifications")
    if notifications is None:
        notifications = []
    notifications = _list(notifications, "notifications")
    teams = process.get("teams")
    teams = [] if teams is None else _list(teams, "teams")
    wire_notifications = [
        _notification_to_wire(n, f"notifications[{i}]")
        for i, n in enumerate(notifications)
    ]
    if teams:
        legacy = not notifications and all(
            isinstance(t, dict) and t.get("notify_options") is None for t in teams
        )
        if legacy and _fits_2016(task_defs):
            wire["subscriptions"] = [
                {
                    k: v
                    for k, v in _obj(t, f"teams[{i}]").items()
                    if k != "notify_options"
                }
                for i, t in enumerate(teams)
            ]
        else:
            wire_notifications = [
                _team_to_wire(t, f"teams[{i}]") for i, t in enumerate(teams)
            ] + wire_notifications
    if wire_notifications:
        wire["notifications"] = wire_notifications
    for key, value in process.items():
        if key not in PROCESS_COLUMNS and key not in STORED_ONLY_COLUMNS:
            wire[key] = value  # a column this tool does not know: kept as it came
    return wire


def _fits_2016(task_defs: list[dict]) -> bool:
    """Would Sundial's 2016-02 API have rendered these tasks (docker/shell, no 2018 fields)?"""
    for task in task_defs:
        executable = task.get("executable") or {}
        if "shell_script_command" in executable:
            continue
        body = executable.get("docker_image_command")
        if not isinstance(body, dict):
            return False
        if "taskRoleArn" in body or body.get("environment_variables"):
            return False
    return True


def _team_to_wire(team: Any, where: str) -> dict:
    team = _obj(team, where)
    body = {k: v for k, v in team.items() if k != "notify_options"}
    if team.get("notify_options") is not None:
        body["notify_when"] = team["notify_options"]
    return {"email": body}


def _schedule_to_wire(value: Any) -> dict:
    value = _obj(value, "schedule")
    body = {k: v for k, v in value.items() if k != "type"}
    kind = value.get("type")
    if kind == "cron":
        return {"cron_schedule": _CRON.wire(body, "schedule")}
    if kind == "continuous":
        return {"continuous_schedule": _CONTINUOUS.wire(body, "schedule")}
    raise StoredFormError("schedule.type", f"unknown schedule type {kind!r}")


def _notification_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    body = {k: v for k, v in value.items() if k != "type"}
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in _NOTIFICATIONS:
        raise StoredFormError(f"{where}.type", f"unknown notification type {kind!r}")
    return {kind: _NOTIFICATIONS[kind].wire(body, where)}


def _task_to_wire(row: dict) -> dict:
    name = row.get("task_definition_name")
    where = f"task {name!r}"
    wire: dict[str, Any] = {"task_definition_name": name}
    deps = []
    for column, required in (
        ("required_dependencies", True),
        ("optional_dependencies", False),
    ):
        for dep in _list(row.get(column) or [], f"{where}.{column}"):
            deps.append({"task_definition_name": dep, "success_required": required})
    wire["dependencies"] = deps
    if row.get("executable") is not None:
        wire["executable"] = _executable_to_wire(
            row["executable"], f"{where}.executable"
        )
    for column, key in (
        ("max_attempts", "max_attempts"),
        ("max_execution_time", "max_runtime_seconds"),
        ("backoff_seconds", "backoff_base_seconds"),
        ("backoff_exponent", "backoff_exponent"),
        ("require_explicit_success", "require_explicit_success"),
    ):
        if row.get(column) is not None:
            wire[key] = row[column]
    for key, value in row.items():
        if key not in TASK_COLUMNS:
            wire[key] = value
    return wire


def _executable_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in _EXECUTABLE_TYPES:
        raise StoredFormError(f"{where}.type", f"unknown executable type {kind!r}")
    member, shape = _EXECUTABLE_TYPES[kind]
    body = {k: v for k, v in value.items() if k != "type"}
    return {member: shape.wire(body, where)}


# -- Sundial's API read-back bug, for the fixture server --------------------------------


def with_buggy_dependencies(defn: dict) -> dict:
    """What Sundial's GET /api/process_definitions returned for ``defn``: every required
    dependency twice (once ``success_required: true``, once ``false``), and no real optional
    ones."""
    out = dict(defn)
    tasks = []
    for task in defn.get("task_definitions", []):
        task = dict(task)
        deps = task.get("dependencies") or []
        required = [d for d in deps if d.get("success_required", True)]
        task["dependencies"] = [
            {
                "task_definition_name": d["task_definition_name"],
                "success_required": True,
            }
            for d in required
        ] + [
            {
                "task_definition_name": d["task_definition_name"],
                "success_required": False,
            }
            for d in required
        ]
        tasks.append(task)
    out["task_definitions"] = tasks
    return out


def doubled_dependencies(defn: Any) -> list[tuple[str, str]]:
    """(task, upstream) pairs listed both as required and optional in a wire definition."""
    found = []
    if not isinstance(defn, dict) or not isinstance(defn.get("task_definitions"), list):
        return found
    for task in defn["task_definitions"]:
        if not isinstance(task, dict) or not isinstance(task.get("dependencies"), list):
            continue
        kinds: dict[str, set] = {}
        for dep in task["dependencies"]:
            if isinstance(dep, dict) and isinstance(
                dep.get("task_definition_name"), str
            ):
                kinds.setdefault(dep["task_definition_name"], set()).add(
                    bool(dep.get("success_required", True))
                )
        for upstream, seen in kinds.items():
            if seen == {True, False}:
                found.append((str(task.get("task_definition_name")), upstream))
    return found
