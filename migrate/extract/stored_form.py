"""Sundial's two shapes of a process definition, and pure functions between them.

*Wire* shape: the REST API's apibuilder JSON (snake_case keys, unions as one-key objects,
env vars as ``[{variable_name, value}]``), what ``migrate convert`` reads.

*Stored* shape: Sundial's PostgreSQL rows.  ``process_definition`` and
``task_definition_template`` columns, whose JSON columns (``schedule``, ``executable``,
``notifications``, ``teams``) are Jackson dumps of Sundial's Scala classes: camelCase keys
plus a ``"type"`` discriminator, env vars as a map.  The key names are documented in
``fixtures/db/README.md``.

``stored_to_wire(wire_to_stored(w)) == w`` for every definition in *canonical* wire form,
and ``wire_to_stored(stored_to_wire(s)) == s`` for every stored form ``wire_to_stored``
produces.  Presence is kept both ways (an absent optional field stays absent; ``[]`` stays
``[]``), as are unknown keys, which pass through unchanged.  Canonical wire form means
what the stored form cannot tell apart is written one way:

- dependencies: required ones first, then optional ones, ``success_required`` explicit;
- ``overlap_action`` and ``backoff_exponent`` (NOT NULL columns) always present;
- an empty ``notifications`` list is omitted;
- env vars: one entry per name (Sundial kept them in a map; the last one wins);
- the default EMR roles carry their enum value (``"EMR_DefaultRole"``); a custom role
  named like the default reads back as the default, which is the same role.

The stored form of a row read from a real Sundial database may also hold what
``wire_to_stored`` never writes (nulls for absent options, legacy ``teams`` entries with
``notify_options``); ``stored_to_wire`` reads those too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


# -- key tables: wire key -> stored key (unknown keys pass through unchanged) ----------

_CRON = {
    "minutes": "minutes",
    "hours": "hours",
    "day_of_month": "dayOfMonth",
    "month": "month",
    "day_of_week": "dayOfWeek",
}
_CONTINUOUS = {"buffer_seconds": "bufferSeconds"}
_SHELL = {"script": "script", "environment_variables": "environmentVariables"}
_BATCH = {
    "image": "image",
    "tag": "tag",
    "command": "command",
    "memory": "memory",
    "vCpus": "vCpus",
    "job_role_arn": "jobRoleArn",
    "environment_variables": "environmentVariables",
    "job_queue": "jobQueue",
}
_DOCKER = {
    "image": "image",
    "tag": "tag",
    "command": "command",
    "memory": "memory",
    "cpu": "cpu",
    "taskRoleArn": "taskRoleArn",
    "log_paths": "logPaths",
    "environment_variables": "environmentVariables",
}
_EMR = {
    "emr_cluster": "emrClusterDetails",
    "job_name": "jobName",
    "region": "region",
    "class": "clazz",
    "s3_jar_path": "s3JarPath",
    "spark_conf": "sparkConf",
    "spark_packages": "sparkPackages",
    "args": "args",
    "s3_log_details": "s3LogDetailsOpt",
    "load_data": "loadData",
    "save_results": "saveResults",
}
_NEW_CLUSTER = {
    "name": "clusterName",
    "release_label": "releaseLabel",
    "applications": "applications",
    "s3_log_uri": "s3LogUri",
    "master_instance": "masterInstanceGroup",
    "core_instance": "coreInstanceGroup",
    "task_instance": "taskInstanceGroup",
    "ec2_subnet": "ec2SubnetOpt",
    "emr_service_role": "emrServiceRole",
    "emr_job_flow_role": "emrJobFlowRole",
    "visible_to_all_users": "visibleToAllUsers",
    "configurations": "configurations",
    "security_configuration": "securityConfiguration",
}
_INSTANCE_GROUP = {
    "emr_instance_type": "instanceType",
    "instance_count": "instanceCount",
    "aws_market": "awsMarket",
    "ebs_volume_size": "ebsVolumeSizeOpt",
}
_PACKAGE = {"group_id": "groupId", "artifact_id": "artifactId", "version": "version"}
_LOG_DETAILS = {"log_group_name": "logGroupName", "log_stream_name": "logStreamName"}
_EMAIL = {"name": "name", "email": "email", "notify_when": "notify_action"}
_PAGERDUTY = {
    "service_key": "service_key",
    "api_url": "api_url",
    "num_consecutive_failures": "num_consecutive_failures",
}

_EXECUTABLES = {
    "shell_script_command": ("shell", _SHELL),
    "batch_image_command": ("batch", _BATCH),
    "docker_image_command": ("docker", _DOCKER),
    "emr_command": ("emr", _EMR),
}
_EXECUTABLE_TYPES = {
    stored: (wire, keys) for wire, (stored, keys) in _EXECUTABLES.items()
}

_ROLES = {
    "emr_service_role": ("default_emr_service_role", DEFAULT_SERVICE_ROLE),
    "emr_job_flow_role": ("default_emr_job_flow_role", DEFAULT_JOB_FLOW_ROLE),
}


def _invert(table: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in table.items()}


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


def _rename(
    data: dict, table: dict[str, str], where: str, special, drop_null: bool
) -> dict:
    """Rename keys by ``table``; ``special[key](value, path)`` converts a value."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if drop_null and value is None and key in table:
            continue  # Jackson's Option None: the same as absent
        new_key = table.get(key, key)
        path = f"{where}.{key}"
        out[new_key] = special[key](value, path) if key in special else value
    return out


# -- wire -> stored -------------------------------------------------------------------


def wire_to_stored(defn: dict) -> StoredDefinition:
    """The rows Sundial stores for one wire-shape definition."""
    defn = _obj(defn, "process_definition")
    name = defn.get("process_definition_name")
    row: dict[str, Any] = {"process_definition_name": name}
    teams = None
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
    row.setdefault("is_disabled", None)
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
    body = _obj(body, f"schedule.{member}")
    if member == "cron_schedule":
        return {"type": "cron", **_rename(body, _CRON, "schedule", {}, False)}
    if member == "continuous_schedule":
        return {
            "type": "continuous",
            **_rename(body, _CONTINUOUS, "schedule", {}, False),
        }
    raise StoredFormError("schedule", f"unknown schedule {member!r}")


def _union(value: Any, where: str) -> tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise StoredFormError(where, "expected an object with exactly one key")
    return next(iter(value.items()))


def _notification_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    body = _obj(body, f"{where}.{member}")
    if member == "email":
        return {"type": "email", **_rename(body, _EMAIL, where, {}, False)}
    if member == "pagerduty":
        return {"type": "pagerduty", **_rename(body, _PAGERDUTY, where, {}, False)}
    raise StoredFormError(where, f"unknown notification {member!r}")


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
    row.setdefault("require_explicit_success", None)
    return row


def _env_to_stored(value: Any, where: str) -> dict:
    env: dict[str, Any] = {}
    for i, item in enumerate(_list(value, where)):
        item = _obj(item, f"{where}[{i}]")
        env[item.get("variable_name")] = item.get("value")
    return env


def _executable_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    if member not in _EXECUTABLES:
        raise StoredFormError(where, f"unknown executable {member!r}")
    stored_type, table = _EXECUTABLES[member]
    body = _obj(body, f"{where}.{member}")
    special: dict = {"environment_variables": _env_to_stored}
    if member == "emr_command":
        special = {
            "emr_cluster": _cluster_to_stored,
            "spark_packages": lambda v, p: [
                _rename(_obj(x, p), _PACKAGE, p, {}, False) for x in _list(v, p)
            ],
            "s3_log_details": lambda v, p: _rename(
                _obj(v, p), _LOG_DETAILS, p, {}, False
            ),
        }
    return {"type": stored_type, **_rename(body, table, where, special, False)}


def _cluster_to_stored(value: Any, where: str) -> dict:
    member, body = _union(value, where)
    body = _obj(body, f"{where}.{member}")
    if member == "existing_emr_cluster":
        return {
            "existingCluster": True,
            **_rename(body, {"cluster_id": "clusterId"}, where, {}, False),
        }
    if member != "new_emr_cluster":
        raise StoredFormError(where, f"unknown EMR cluster {member!r}")
    special = {
        "master_instance": _group_to_stored,
        "core_instance": _group_to_stored,
        "task_instance": _group_to_stored,
        "emr_service_role": lambda v, p: _role_to_stored(v, p, "emr_service_role"),
        "emr_job_flow_role": lambda v, p: _role_to_stored(v, p, "emr_job_flow_role"),
    }
    return {
        **_rename(body, _NEW_CLUSTER, where, special, False),
        "existingCluster": False,
    }


def _role_to_stored(value: Any, where: str, which: str) -> str:
    default_member, default_name = _ROLES[which]
    member, body = _union(value, where)
    if member == default_member:
        return default_name
    if member == default_member.replace("default_", "custom_"):
        return _obj(body, where).get("role_name")
    raise StoredFormError(where, f"unknown role {member!r}")


def _group_to_stored(value: Any, where: str) -> dict:
    value = _obj(value, where)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "aws_market":
            member, body = _union(item, f"{where}.aws_market")
            out["awsMarket"] = member
            if member == "spot":
                spot = _obj(body, f"{where}.aws_market.spot")
                if "bid_price" in spot:
                    out["bidPriceOpt"] = spot["bid_price"]
        else:
            out[_INSTANCE_GROUP.get(key, key)] = item
    return out


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
    if teams is not None:
        teams = _list(teams, "teams")
    wire_notifications = [
        _notification_to_wire(n, f"notifications[{i}]")
        for i, n in enumerate(notifications)
    ]
    if teams is not None:
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
        if "taskRoleArn" in body or "environment_variables" in body:
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
        return {"cron_schedule": _rename(body, _invert(_CRON), "schedule", {}, True)}
    if kind == "continuous":
        return {
            "continuous_schedule": _rename(
                body, _invert(_CONTINUOUS), "schedule", {}, True
            )
        }
    raise StoredFormError("schedule.type", f"unknown schedule type {kind!r}")


def _notification_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    body = {k: v for k, v in value.items() if k != "type"}
    kind = value.get("type")
    if kind == "email":
        return {"email": _rename(body, _invert(_EMAIL), where, {}, True)}
    if kind == "pagerduty":
        return {"pagerduty": _rename(body, _invert(_PAGERDUTY), where, {}, True)}
    raise StoredFormError(f"{where}.type", f"unknown notification type {kind!r}")


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


def _env_to_wire(value: Any, where: str) -> list:
    env = _obj(value, where)
    return [{"variable_name": k, "value": v} for k, v in env.items()]


def _executable_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    kind = value.get("type")
    if kind not in _EXECUTABLE_TYPES:
        raise StoredFormError(f"{where}.type", f"unknown executable type {kind!r}")
    member, table = _EXECUTABLE_TYPES[kind]
    body = {k: v for k, v in value.items() if k != "type"}
    special: dict = {"environmentVariables": _env_to_wire}
    if kind == "emr":
        special = {
            "emrClusterDetails": _cluster_to_wire,
            "sparkPackages": lambda v, p: [
                _rename(_obj(x, p), _invert(_PACKAGE), p, {}, True) for x in _list(v, p)
            ],
            "s3LogDetailsOpt": lambda v, p: _rename(
                _obj(v, p), _invert(_LOG_DETAILS), p, {}, True
            ),
        }
    return {member: _rename(body, _invert(table), where, special, True)}


def _cluster_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    body = {k: v for k, v in value.items() if k != "existingCluster"}
    if value.get("existingCluster"):
        return {
            "existing_emr_cluster": _rename(
                body, {"clusterId": "cluster_id"}, where, {}, True
            )
        }
    special = {
        "masterInstanceGroup": _group_to_wire,
        "coreInstanceGroup": _group_to_wire,
        "taskInstanceGroup": _group_to_wire,
        "emrServiceRole": lambda v, p: _role_to_wire(v, p, "emr_service_role"),
        "emrJobFlowRole": lambda v, p: _role_to_wire(v, p, "emr_job_flow_role"),
    }
    return {
        "new_emr_cluster": _rename(body, _invert(_NEW_CLUSTER), where, special, True)
    }


def _role_to_wire(value: Any, where: str, which: str) -> dict:
    default_member, default_name = _ROLES[which]
    if not isinstance(value, str):
        raise StoredFormError(where, f"expected a role name, got {_kind(value)}")
    if value == default_name:
        return {default_member: default_name}
    return {default_member.replace("default_", "custom_"): {"role_name": value}}


def _group_to_wire(value: Any, where: str) -> dict:
    value = _obj(value, where)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "bidPriceOpt":
            continue
        if key == "awsMarket":
            if item == "spot":
                spot = {}
                if value.get("bidPriceOpt") is not None:
                    spot["bid_price"] = value["bidPriceOpt"]
                out["aws_market"] = {"spot": spot}
            elif item == "on_demand":
                out["aws_market"] = {"on_demand": "on_demand"}
            else:
                raise StoredFormError(f"{where}.awsMarket", f"unknown market {item!r}")
        elif item is None and key in ("ebsVolumeSizeOpt",):
            continue
        else:
            out[_invert(_INSTANCE_GROUP).get(key, key)] = item
    return out


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
