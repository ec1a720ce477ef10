"""Read Sundial's REST wire shape (apibuilder JSON, any generation) into the typed model.

One call reads one process definition.  It never raises on bad data: it returns either a
``ProcessDefinition`` or the list of ``Problem`` lines that explain why it cannot be used.
Every field it reads is recorded as a path (``task_definitions[load].max_attempts``) so the
report can account for each of them.
"""

from __future__ import annotations

import heapq
import math
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from migrate.problems import Problem
from migrate.sundial.model import (
    DEFAULT_EMR_JOB_FLOW_ROLE,
    DEFAULT_EMR_SERVICE_ROLE,
    DEFAULT_PAGERDUTY_API_URL,
    GENERATIONS,
    NOTIFY_WHEN_VALUES,
    BatchCommand,
    ContinuousSchedule,
    CronSchedule,
    Dependency,
    DockerCommand,
    EmailNotification,
    EmrCommand,
    EmrConfiguration,
    EmrInstanceGroup,
    EnvVar,
    ExistingEmrCluster,
    MavenPackage,
    NewEmrCluster,
    PagerDutyNotification,
    ProcessDefinition,
    S3Copy,
    ShellCommand,
    SourceRef,
    TaskDefinition,
)

EMR_RELEASE_LABELS = (
    "emr-5.20.0 emr-5.19.0 emr-5.18.0 emr-5.17.0 emr-5.16.0 emr-5.15.0 emr-5.14.0 emr-5.13.0 "
    "emr-5.12.1 emr-5.12.0 emr-5.11.1 emr-5.11.0 emr-5.10.0 emr-5.9.0 emr-4.9.2 emr-4.9.1"
).split()
EMR_APPLICATIONS = ("Hadoop", "Hive", "Mahout", "Pig", "Spark", "Ganglia")

# Which API generations know each executable and each process-level notification field.
_EXECUTABLE_GENERATIONS = {
    "docker_image_command": {"2016-02", "2018-12"},
    "shell_script_command": set(GENERATIONS),
    "batch_image_command": {"2018-12", "2019-07"},
    "emr_command": {"2018-12", "2019-07"},
}

_JAVA_INT_MAX = 2**31 - 1


class _Invalid(Exception):
    """Raised inside the reader to abandon one field; the problem is already recorded."""


class WireReader:
    """Reads one process definition, collecting problems and the paths it saw."""

    def __init__(self, source: SourceRef, process_name: str | None = None):
        self.source = source
        self.process_name = process_name
        self.problems: list[Problem] = []
        self.present: list[str] = []
        self.unknown: list[tuple[str, object]] = []
        self.generations = set(GENERATIONS)

    # -- primitives ---------------------------------------------------------------------

    def fail(self, path: str, message: str, hint: str = "") -> _Invalid:
        self.problems.append(
            Problem(str(self.source), self.process_name, path, message, hint)
        )
        return _Invalid()

    def obj(self, value: Any, path: str, known: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_describe(value)}")
        for key in value:
            if key not in known:
                self.unknown.append((_join(path, key), value[key]))
        return value

    def take(
        self,
        data: dict,
        path: str,
        key: str,
        check: Callable[[Any, str], Any],
        *,
        required: bool = True,
        default: Any = None,
        record: bool = True,
    ) -> Any:
        field_path = _join(path, key)
        if key not in data:
            if required and default is None:
                raise self.fail(
                    field_path, "is missing", "add it; the Sundial API requires it"
                )
            return default
        if record:
            self.present.append(field_path)
        return check(data[key], field_path)

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_describe(value)}")
        return value

    def nonempty(self, value: Any, path: str) -> str:
        text = self.string(value, path)
        if not text.strip():
            raise self.fail(path, "is empty", "give it a value")
        return text

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {_describe(value)}")
        return value

    def integer(self, value: Any, path: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.fail(
                    path, f"expected a whole number, got {_describe(value)}"
                )
        if minimum is not None and value < minimum:
            raise self.fail(
                path, f"must be at least {minimum}, got {_shown_int(value)}"
            )
        if value > _JAVA_INT_MAX:
            raise self.fail(
                path, f"is larger than Sundial's 32-bit limit ({_shown_int(value)})"
            )
        return value

    def at_least(self, minimum: int) -> Callable[[Any, str], int]:
        return lambda value, path: self.integer(value, path, minimum)

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"expected a number, got {_describe(value)}")
        if not math.isfinite(value):
            raise self.fail(path, f"must be a finite number, got {value}")
        return float(value)

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of strings, got {_describe(value)}")
        return tuple(self.string(item, f"{path}[{i}]") for i, item in enumerate(value))

    def union(self, value: Any, path: str, members: tuple[str, ...]) -> tuple[str, Any]:
        if not isinstance(value, dict) or len(value) != 1:
            got = (
                _describe(value)
                if not isinstance(value, dict)
                else f"keys {sorted(value)}"
            )
            raise self.fail(
                path,
                f"expected an object with exactly one of {', '.join(members)}; got {got}",
            )
        member, body = next(iter(value.items()))
        if member not in members:
            raise self.fail(
                path,
                f"unknown member {member!r}",
                f"expected one of {', '.join(members)}",
            )
        return member, body

    def enum(self, value: Any, path: str, allowed: tuple[str, ...]) -> str:
        text = self.string(value, path)
        if text not in allowed:
            raise self.fail(path, f"{text!r} is not one of {', '.join(allowed)}")
        return text

    def env(self, value: Any, path: str) -> tuple[EnvVar, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(
                path,
                f"expected a list of {{variable_name, value}}, got {_describe(value)}",
            )
        result = []
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            data = self.obj(item, item_path, ("variable_name", "value"))
            name = self.take(
                data, item_path, "variable_name", self.nonempty, record=False
            )
            text = self.take(data, item_path, "value", self.string, record=False)
            result.append(EnvVar(name, text))
        # Sundial kept env vars in a map: one value per name (the last one listed), no
        # order.  So here: by name.
        last = {var.name: var for var in result}
        return tuple(last[name] for name in sorted(last))

    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run one field's reader; a bad field is recorded and reading goes on."""
        try:
            return fn()
        except _Invalid:
            return None

    def narrow(self, generations: set[str], path: str, what: str) -> None:
        remaining = self.generations & generations
        if not remaining:
            raise self.fail(
                path,
                f"{what} does not exist in the API generation the rest of the definition uses "
                f"({', '.join(sorted(self.generations))})",
                "a definition must match one of the Sundial API generations 2016-02, 2018-12, 2019-07",
            )
        self.generations = remaining


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}".lower()
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def task_path(task_name: str) -> str:
    return f"task_definitions[{task_name}]"


# -- process ------------------------------------------------------------------------------

_PROCESS_FIELDS = (
    "process_definition_name",
    "paused",
    "process_description",
    "schedule",
    "task_definitions",
    "overlap_action",
    "subscriptions",
    "notifications",
)
_TASK_FIELDS = (
    "task_definition_name",
    "dependencies",
    "executable",
    "max_attempts",
    "max_runtime_seconds",
    "backoff_base_seconds",
    "backoff_exponent",
    "require_explicit_success",
)


def _shown_int(value: int) -> str:
    """An integer for a message: in full up to 20 digits, else its size."""
    if abs(value) < 10**20:
        return str(value)
    return f"a number of about {int(abs(value).bit_length() * 0.30103) + 1} digits"


def read_process(data: Any, source: SourceRef) -> ProcessDefinition | list[Problem]:
    """Read one definition in wire shape.  Returns the model, or the problems found."""
    name = data.get("process_definition_name") if isinstance(data, dict) else None
    reader = WireReader(source, name if isinstance(name, str) else None)
    try:
        process = _read_process(reader, data)
    except _Invalid:
        process = None
    except (
        TypeError,
        ValueError,
        OverflowError,
        RecursionError,
        AttributeError,
    ) as exc:
        # a shape no check above foresaw: this definition is invalid, the estate goes on
        reader.problems.append(
            Problem(
                str(source),
                reader.process_name,
                None,
                f"could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
                "fix the definition (a value of an unexpected JSON type or size)",
            )
        )
        process = None
    if reader.problems or process is None:
        return reader.problems or [
            Problem(str(source), reader.process_name, None, "could not be read")
        ]
    return process


def _read_process(r: WireReader, data: Any) -> ProcessDefinition:
    data = r.obj(data, "", _PROCESS_FIELDS)
    name = r.take(data, "", "process_definition_name", r.nonempty)
    paused = r.guard(lambda: r.take(data, "", "paused", r.boolean, required=False))
    description = r.guard(
        lambda: r.take(data, "", "process_description", r.string, required=False)
    )
    schedule = r.guard(lambda: _read_schedule(r, data))
    overlap = r.guard(
        lambda: r.take(
            data,
            "",
            "overlap_action",
            lambda v, p: r.enum(v, p, ("wait", "terminate")),
            default="wait",
        )
    )
    notifications = r.guard(lambda: _read_notifications(r, data)) or ()
    tasks_raw = r.take(data, "", "task_definitions", lambda v, p: v, record=False)
    if not isinstance(tasks_raw, list):
        raise r.fail(
            "task_definitions",
            f"expected a list of task definitions, got {_describe(tasks_raw)}",
        )
    if not tasks_raw:
        raise r.fail(
            "task_definitions", "is empty", "a process needs at least one task"
        )
    tasks: list[TaskDefinition] = []
    seen: set[str] = set()
    for i, raw in canonical_order(tasks_raw):
        task = r.guard(lambda: _read_task(r, raw, i))
        if task is None:
            continue
        if task.name in seen:
            r.fail(
                f"{task_path(task.name)}.task_definition_name",
                "duplicate task name",
                "task names must be unique within a process",
            )
            continue
        seen.add(task.name)
        tasks.append(task)
    all_names = {
        raw.get("task_definition_name")
        for raw in tasks_raw
        if isinstance(raw, dict) and isinstance(raw.get("task_definition_name"), str)
    }
    doubled = _check_dependencies(r, tasks, all_names)
    if r.problems:
        raise _Invalid()
    return ProcessDefinition(
        name=name,
        description=description,
        paused=paused,
        schedule=schedule,
        tasks=tuple(tasks),
        overlap_action=overlap,
        notifications=tuple(notifications),
        source=r.source,
        generations=tuple(g for g in GENERATIONS if g in r.generations),
        present_fields=tuple(r.present),
        unknown_fields=tuple(sorted(r.unknown, key=lambda item: item[0])),
        doubled_dependencies=tuple(sorted(doubled)),
    )


def canonical_order(tasks_raw: list) -> list[tuple[int, Any]]:
    """The tasks (with their positions) in the one order the output follows, whatever
    order they came in: Sundial keeps none (its API lists them as the database returns
    them).  Upstreams before downstreams, ties broken by name; tasks that cannot be placed
    (no name, in a cycle) follow, by name, then by position."""
    named: dict[str, list[int]] = {}
    for i, raw in enumerate(tasks_raw):
        name = raw.get("task_definition_name") if isinstance(raw, dict) else None
        if isinstance(name, str):
            named.setdefault(name, []).append(i)
    waiting: dict[str, set[str]] = {}
    for name, positions in named.items():
        ups: set[str] = set()
        for i in positions:
            deps = tasks_raw[i].get("dependencies")
            for dep in deps if isinstance(deps, list) else ():
                up = dep.get("task_definition_name") if isinstance(dep, dict) else None
                if isinstance(up, str) and up in named and up != name:
                    ups.add(up)
        waiting[name] = ups
    downstream: dict[str, list[str]] = {name: [] for name in named}
    for name, ups in waiting.items():
        for up in ups:
            downstream[up].append(name)
    ready = [name for name, ups in waiting.items() if not ups]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for down in downstream[name]:
            waiting[down].discard(name)
            if not waiting[down]:
                heapq.heappush(ready, down)
    placed = set(order)
    order += sorted(name for name in named if name not in placed)
    result = [(i, tasks_raw[i]) for name in order for i in named[name]]
    taken = {i for i, _ in result}
    unnamed = [i for i in range(len(tasks_raw)) if i not in taken]
    return result + [(i, tasks_raw[i]) for i in unnamed]


def _read_schedule(r: WireReader, data: dict):
    if "schedule" not in data:
        return None
    member, body = r.union(
        data["schedule"], "schedule", ("cron_schedule", "continuous_schedule")
    )
    path = f"schedule.{member}"
    if member == "continuous_schedule":
        body = r.obj(body, path, ("buffer_seconds",))
        r.present.append(path)
        buffer = r.take(body, path, "buffer_seconds", r.at_least(0), required=False)
        return ContinuousSchedule(buffer)
    fields = ("minutes", "hours", "day_of_month", "month", "day_of_week")
    body = r.obj(body, path, fields)
    values = [r.take(body, path, f, r.nonempty) for f in fields]
    cron = CronSchedule(*(v.strip() for v in values))
    _validate_quartz(r, cron, path)
    return cron


def _validate_quartz(r: WireReader, cron: CronSchedule, path: str) -> None:
    """Reject what Quartz 2.3 rejects: Sundial never stored such an expression."""
    from migrate.schedule.quartz_check import quartz_problem

    problem = quartz_problem(cron)
    if problem is not None:
        field, message = problem
        if field and message.startswith(f"{field}: "):
            message = message[len(field) + 2 :]
        raise r.fail(
            f"{path}.{field}" if field else path,
            message,
            "Quartz 2.3 rejects this expression, so Sundial could not have stored it; fix the field",
        )


def _read_notifications(r: WireReader, data: dict):
    result = []
    if "subscriptions" in data:
        r.narrow({"2016-02"}, "subscriptions", "'subscriptions'")
        subs = data["subscriptions"]
        if not isinstance(subs, list):
            raise r.fail("subscriptions", f"expected a list, got {_describe(subs)}")
        for i, item in enumerate(subs):
            path = f"subscriptions[{i}]"
            item = r.obj(item, path, ("name", "email"))
            r.present.append(path)
            result.append(
                EmailNotification(
                    r.take(item, path, "name", r.string, record=False),
                    r.take(item, path, "email", r.nonempty, record=False),
                    # Sundial read legacy subscriptions (teams) with this default.
                    "on_state_change_and_failures",
                    legacy_subscription=True,
                )
            )
    if "notifications" in data:
        r.narrow({"2018-12", "2019-07"}, "notifications", "'notifications'")
        items = data["notifications"]
        if not isinstance(items, list):
            raise r.fail("notifications", f"expected a list, got {_describe(items)}")
        for i, item in enumerate(items):
            path = f"notifications[{i}]"
            member, body = r.union(item, path, ("email", "pagerduty"))
            path = f"{path}.{member}"
            if member == "email":
                body = r.obj(body, path, ("name", "email", "notify_when"))
                r.present.append(path)
                result.append(
                    EmailNotification(
                        r.take(body, path, "name", r.string, record=False),
                        r.take(body, path, "email", r.nonempty, record=False),
                        r.take(
                            body,
                            path,
                            "notify_when",
                            lambda v, p: r.enum(v, p, NOTIFY_WHEN_VALUES),
                            default="on_state_change_and_failures",
                            record=False,
                        ),
                    )
                )
            else:
                body = r.obj(
                    body, path, ("service_key", "num_consecutive_failures", "api_url")
                )
                r.present.append(path)
                result.append(
                    PagerDutyNotification(
                        r.take(body, path, "service_key", r.nonempty, record=False),
                        r.take(
                            body,
                            path,
                            "num_consecutive_failures",
                            r.at_least(1),
                            default=1,
                            record=False,
                        ),
                        r.take(
                            body,
                            path,
                            "api_url",
                            r.nonempty,
                            default=DEFAULT_PAGERDUTY_API_URL,
                            record=False,
                        ),
                    )
                )
    return result


# -- tasks --------------------------------------------------------------------------------


def _read_task(r: WireReader, raw: Any, index: int) -> TaskDefinition:
    if not isinstance(raw, dict):
        raise r.fail(
            f"task_definitions[{index}]", f"expected an object, got {_describe(raw)}"
        )
    name = raw.get("task_definition_name")
    if not isinstance(name, str) or not name.strip():
        raise r.fail(
            f"task_definitions[{index}].task_definition_name",
            "is missing or not a non-empty string",
            "every task needs a name",
        )
    path = task_path(name)
    data = r.obj(raw, path, _TASK_FIELDS)
    r.present.append(f"{path}.task_definition_name")
    before = len(r.problems)
    deps = r.guard(lambda: _read_dependencies(r, data, path))
    executable = r.guard(lambda: _read_executable(r, data, path))
    max_attempts = r.guard(lambda: r.take(data, path, "max_attempts", r.at_least(1)))
    max_runtime = r.guard(
        lambda: r.take(data, path, "max_runtime_seconds", r.at_least(1), required=False)
    )
    backoff_base = r.guard(
        lambda: r.take(data, path, "backoff_base_seconds", r.at_least(0))
    )

    def exponent(value: Any, p: str) -> float:
        number = r.number(value, p)
        if number <= 0:
            raise r.fail(p, f"must be greater than 0, got {value}")
        return number

    backoff_exponent = r.guard(
        lambda: r.take(data, path, "backoff_exponent", exponent, default=1.0)
    )
    explicit = r.guard(
        lambda: r.take(data, path, "require_explicit_success", r.boolean, default=False)
    )
    if len(r.problems) > before:
        raise _Invalid()
    return TaskDefinition(
        name=name,
        dependencies=deps,
        executable=executable,
        max_attempts=max_attempts,
        max_runtime_seconds=max_runtime,
        backoff_base_seconds=backoff_base,
        backoff_exponent=backoff_exponent,
        require_explicit_success=explicit,
    )


def _read_dependencies(r: WireReader, data: dict, path: str) -> tuple[Dependency, ...]:
    raw = r.take(data, path, "dependencies", lambda v, p: v, default=[])
    dpath = f"{path}.dependencies"
    if not isinstance(raw, list):
        raise r.fail(dpath, f"expected a list, got {_describe(raw)}")
    result = []
    for i, item in enumerate(raw):
        ipath = f"{dpath}[{i}]"
        item = r.obj(item, ipath, ("task_definition_name", "success_required"))
        upstream = r.take(item, ipath, "task_definition_name", r.nonempty, record=False)
        required = r.take(
            item, ipath, "success_required", r.boolean, default=True, record=False
        )
        result.append(Dependency(upstream, required))
    # Sundial kept no order of a task's dependencies: one order, by name (required first).
    return tuple(sorted(result, key=lambda d: (d.task_name, not d.success_required)))


def _read_executable(r: WireReader, data: dict, path: str):
    members = tuple(_EXECUTABLE_GENERATIONS)
    raw = r.take(data, path, "executable", lambda v, p: v, record=False)
    member, body = r.union(raw, f"{path}.executable", members)
    epath = f"{path}.executable.{member}"
    r.narrow(_EXECUTABLE_GENERATIONS[member], epath, f"executable {member!r}")
    if member == "shell_script_command":
        body = r.obj(body, epath, ("script", "environment_variables"))
        return ShellCommand(
            r.take(body, epath, "script", r.string),
            r.take(
                body, epath, "environment_variables", r.env, required=False, default=()
            ),
        )
    if member == "batch_image_command":
        body = r.obj(
            body,
            epath,
            (
                "image",
                "tag",
                "command",
                "memory",
                "vCpus",
                "job_role_arn",
                "environment_variables",
                "job_queue",
            ),
        )
        return BatchCommand(
            image=r.take(body, epath, "image", r.nonempty),
            tag=r.take(body, epath, "tag", r.nonempty, default="latest"),
            command=r.take(body, epath, "command", r.strings),
            memory=r.take(body, epath, "memory", r.at_least(1)),
            vcpus=r.take(body, epath, "vCpus", r.at_least(1)),
            job_role_arn=r.take(
                body, epath, "job_role_arn", r.nonempty, required=False
            ),
            env=r.take(body, epath, "environment_variables", r.env, default=()),
            job_queue=r.take(body, epath, "job_queue", r.nonempty, required=False),
        )
    if member == "docker_image_command":
        known = ("image", "tag", "command", "memory", "cpu", "log_paths")
        newer = ("taskRoleArn", "environment_variables")
        body = r.obj(body, epath, known + newer)
        if any(key in body for key in newer):
            r.narrow(
                {"2018-12"},
                epath,
                "docker_image_command with taskRoleArn/environment_variables",
            )
        return DockerCommand(
            image=r.take(body, epath, "image", r.nonempty),
            tag=r.take(body, epath, "tag", r.nonempty, default="latest"),
            command=r.take(body, epath, "command", r.strings),
            memory=r.take(body, epath, "memory", r.at_least(1), required=False),
            cpu=r.take(body, epath, "cpu", r.at_least(1), required=False),
            task_role_arn=r.take(
                body, epath, "taskRoleArn", r.nonempty, required=False
            ),
            log_paths=r.take(body, epath, "log_paths", r.strings, default=()),
            env=r.take(body, epath, "environment_variables", r.env, default=()),
        )
    return _read_emr(r, body, epath)


def _read_emr(r: WireReader, body: Any, epath: str) -> EmrCommand:
    body = r.obj(
        body,
        epath,
        (
            "emr_cluster",
            "job_name",
            "region",
            "class",
            "s3_jar_path",
            "spark_conf",
            "spark_packages",
            "args",
            "s3_log_details",
            "load_data",
            "save_results",
        ),
    )
    cluster_member, cluster_body = r.union(
        r.take(body, epath, "emr_cluster", lambda v, p: v, record=False),
        f"{epath}.emr_cluster",
        ("new_emr_cluster", "existing_emr_cluster"),
    )
    cpath = f"{epath}.emr_cluster.{cluster_member}"
    if cluster_member == "existing_emr_cluster":
        cluster_body = r.obj(cluster_body, cpath, ("cluster_id",))
        cluster = ExistingEmrCluster(
            r.take(cluster_body, cpath, "cluster_id", r.nonempty)
        )
    else:
        cluster = _read_new_cluster(r, cluster_body, cpath)

    def packages(value: Any, path: str) -> tuple[MavenPackage, ...]:
        if not isinstance(value, list):
            raise r.fail(path, f"expected a list, got {_describe(value)}")
        result = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            item = r.obj(item, ipath, ("group_id", "artifact_id", "version"))
            result.append(
                MavenPackage(
                    *(
                        r.take(item, ipath, k, r.nonempty, record=False)
                        for k in ("group_id", "artifact_id", "version")
                    )
                )
            )
        return tuple(result)

    def copies(value: Any, path: str) -> tuple[S3Copy, ...]:
        if not isinstance(value, list):
            raise r.fail(path, f"expected a list, got {_describe(value)}")
        result = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            item = r.obj(item, ipath, ("source", "destination"))
            result.append(
                S3Copy(
                    r.take(item, ipath, "source", r.nonempty, record=False),
                    r.take(item, ipath, "destination", r.nonempty, record=False),
                )
            )
        return tuple(result)

    def log_details(value: Any, path: str) -> tuple[str, str]:
        value = r.obj(value, path, ("log_group_name", "log_stream_name"))
        return (
            r.take(value, path, "log_group_name", r.nonempty, record=False),
            r.take(value, path, "log_stream_name", r.nonempty, record=False),
        )

    return EmrCommand(
        cluster=cluster,
        job_name=r.take(body, epath, "job_name", r.nonempty),
        region=r.take(body, epath, "region", r.nonempty, default="us-east-1"),
        main_class=r.take(body, epath, "class", r.nonempty),
        s3_jar_path=r.take(body, epath, "s3_jar_path", r.nonempty),
        spark_conf=r.take(body, epath, "spark_conf", r.strings, default=()),
        spark_packages=r.take(body, epath, "spark_packages", packages, default=()),
        args=r.take(body, epath, "args", r.strings, default=()),
        s3_log_details=r.take(
            body, epath, "s3_log_details", log_details, required=False
        ),
        load_data=r.take(body, epath, "load_data", copies, default=()),
        save_results=r.take(body, epath, "save_results", copies, default=()),
    )


def _read_new_cluster(r: WireReader, body: Any, cpath: str) -> NewEmrCluster:
    body = r.obj(
        body,
        cpath,
        (
            "name",
            "release_label",
            "applications",
            "s3_log_uri",
            "master_instance",
            "core_instance",
            "task_instance",
            "ec2_subnet",
            "emr_service_role",
            "emr_job_flow_role",
            "visible_to_all_users",
            "configurations",
            "security_configuration",
        ),
    )

    def role(value: Any, path: str, default_member: str, default_name: str) -> str:
        custom = default_member.replace("default_", "custom_")
        member, role_body = r.union(value, path, (default_member, custom))
        if member == default_member:
            if role_body not in (default_member, default_name):
                raise r.fail(f"{path}.{member}", f"unexpected value {role_body!r}")
            return default_name
        role_body = r.obj(role_body, f"{path}.{member}", ("role_name",))
        return r.take(
            role_body, f"{path}.{member}", "role_name", r.nonempty, record=False
        )

    def applications(value: Any, path: str) -> tuple[str, ...]:
        names = r.strings(value, path)
        for i, app in enumerate(names):
            r.enum(app, f"{path}[{i}]", EMR_APPLICATIONS)
        return names

    def group(value: Any, path: str) -> EmrInstanceGroup:
        value = r.obj(
            value,
            path,
            ("emr_instance_type", "instance_count", "aws_market", "ebs_volume_size"),
        )
        member, market_body = r.union(
            r.take(value, path, "aws_market", lambda v, p: v, record=False),
            f"{path}.aws_market",
            ("on_demand", "spot"),
        )
        bid = None
        if member == "spot":
            spot = r.obj(market_body, f"{path}.aws_market.spot", ("bid_price",))
            bid = r.take(
                spot, f"{path}.aws_market.spot", "bid_price", _decimal(r), record=False
            )
        return EmrInstanceGroup(
            instance_type=r.take(
                value, path, "emr_instance_type", r.nonempty, record=False
            ),
            instance_count=r.take(
                value, path, "instance_count", r.at_least(1), record=False
            ),
            market="SPOT" if member == "spot" else "ON_DEMAND",
            bid_price=bid,
            ebs_volume_size=r.take(
                value,
                path,
                "ebs_volume_size",
                r.at_least(1),
                required=False,
                record=False,
            ),
        )

    def configurations(value: Any, path: str) -> tuple[EmrConfiguration, ...]:
        if not isinstance(value, list):
            raise r.fail(path, f"expected a list, got {_describe(value)}")
        result = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            item = r.obj(
                item, ipath, ("classification", "configurations", "properties")
            )
            props = item.get("properties", {})
            if not isinstance(props, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in props.items()
            ):
                raise r.fail(
                    f"{ipath}.properties", "expected a map of strings to strings"
                )
            result.append(
                EmrConfiguration(
                    classification=r.take(
                        item,
                        ipath,
                        "classification",
                        r.string,
                        required=False,
                        record=False,
                    ),
                    properties=tuple(sorted(props.items())),  # a map: no order
                    configurations=configurations(
                        item.get("configurations", []), f"{ipath}.configurations"
                    ),
                )
            )
        return tuple(result)

    return NewEmrCluster(
        name=r.take(body, cpath, "name", r.nonempty),
        release_label=r.take(
            body,
            cpath,
            "release_label",
            lambda v, p: r.enum(v, p, tuple(EMR_RELEASE_LABELS)),
            default="emr-5.10.0",
        ),
        applications=r.take(body, cpath, "applications", applications),
        s3_log_uri=r.take(body, cpath, "s3_log_uri", r.nonempty),
        master=r.take(body, cpath, "master_instance", group),
        core=r.take(body, cpath, "core_instance", group, required=False),
        task=r.take(body, cpath, "task_instance", group, required=False),
        ec2_subnet=r.take(body, cpath, "ec2_subnet", r.nonempty, required=False),
        service_role=r.take(
            body,
            cpath,
            "emr_service_role",
            lambda v, p: role(
                v, p, "default_emr_service_role", DEFAULT_EMR_SERVICE_ROLE
            ),
        ),
        job_flow_role=r.take(
            body,
            cpath,
            "emr_job_flow_role",
            lambda v, p: role(
                v, p, "default_emr_job_flow_role", DEFAULT_EMR_JOB_FLOW_ROLE
            ),
        ),
        visible_to_all_users=r.take(
            body, cpath, "visible_to_all_users", r.boolean, default=False
        ),
        configurations=r.take(
            body, cpath, "configurations", configurations, default=()
        ),
        security_configuration=r.take(
            body, cpath, "security_configuration", r.nonempty, required=False
        ),
    )


def _decimal(r: WireReader) -> Callable[[Any, str], str]:
    def check(value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise r.fail(path, f"expected a decimal number, got {_describe(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise r.fail(
                path, f"expected a decimal number, got {_describe(value)}"
            ) from None
        if not number.is_finite() or number <= 0:
            raise r.fail(path, f"must be a positive price, got {value}")
        return str(value)

    return check


# -- whole-graph checks -------------------------------------------------------------------


def _check_dependencies(
    r: WireReader, tasks: list[TaskDefinition], all_names: set
) -> list[tuple[str, str]]:
    names = {t.name for t in tasks}
    doubled: list[tuple[str, str]] = []
    for task in tasks:
        path = f"{task_path(task.name)}.dependencies"
        seen: dict[str, bool] = {}
        for dep in task.dependencies:
            if dep.task_name == task.name:
                r.fail(path, "task depends on itself", "remove the self-dependency")
            elif dep.task_name not in names:
                if dep.task_name in all_names:
                    continue  # that task is invalid itself and already reported
                r.fail(
                    path,
                    f"depends on {dep.task_name!r}, which is not a task of this process",
                    f"known tasks: {', '.join(sorted(names))}",
                )
            elif dep.task_name in seen:
                if seen[dep.task_name] != dep.success_required:
                    doubled.append((task.name, dep.task_name))
                else:
                    r.fail(
                        path,
                        f"lists {dep.task_name!r} twice",
                        "list each upstream once",
                    )
            seen[dep.task_name] = dep.success_required
    if r.problems:
        return doubled
    cycle = _find_cycle({t.name: [d.task_name for d in t.dependencies] for t in tasks})
    if cycle:
        r.fail(
            "task_definitions",
            "dependency cycle: "
            + (
                " -> ".join(cycle)
                if len(cycle) <= 12
                else " -> ".join(cycle[:10])
                + f" -> ... ({len(cycle) - 1} tasks in the cycle)"
            ),
            "Sundial rejects cycles; break one of these dependencies",
        )
    return doubled


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a list of names (first == last), or None.  Iterative, so a
    process with thousands of chained tasks cannot exhaust Python's recursion limit."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {node: WHITE for node in graph}
    for root in sorted(graph):
        if colour[root] != WHITE:
            continue
        path: list[str] = [root]
        iters = [iter(graph[root])]
        colour[root] = GREY
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                colour[path.pop()] = BLACK
                iters.pop()
                continue
            if colour[nxt] == GREY:
                return path[path.index(nxt) :] + [nxt]
            if colour[nxt] == WHITE:
                colour[nxt] = GREY
                path.append(nxt)
                iters.append(iter(graph[nxt]))
    return None
