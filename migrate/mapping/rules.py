"""Load mapping rules and resolve the settings that apply to one process or task.

Format (YAML)::

    version: 1
    defaults: {setting: value, ...}        # only in mappings/default.yaml, or to override
    rules:
      - processes: ["finance-*"]          # fnmatch globs on Sundial process names
        tasks: ["load*"]                  # optional; globs on Sundial task names
        set: {owner: finance, pool: finance_pool}

Every resolved value remembers where it came from (file and rule), which is the
provenance the report and the generated code carry.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

# The top-level mappings/ folder of the checkout, installed as package data.
DEFAULT_MAPPINGS = Path(str(files("migrate.mappings").joinpath("default.yaml")))
DEFAULT_LABEL = "mappings/default.yaml"  # how origins name it, wherever it is installed

# Settings that hold for the whole estate (one requirements.txt, one Airflow): a rule
# cannot set them for some processes only.
ESTATE_WIDE = {"airflow_version", "dags_paused_on_deploy"}

# Settings whose values merge (dict update / list union) instead of being replaced.
_MERGED_DICTS = {"default_args", "batch_job_queue_renames"}
_MERGED_LISTS = {"tags"}


class MappingError(ValueError):
    """A mapping file that cannot be used; str() is one line naming file and key."""


@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # e.g. "mappings/default.yaml:defaults.owner" or "team.yaml:rules[2]"


@dataclass(frozen=True)
class Rule:
    processes: tuple[str, ...]
    tasks: tuple[str, ...] | None
    values: dict[str, Any]
    origin: str

    def matches(self, process: str, task: str | None) -> bool:
        if not any(fnmatch.fnmatchcase(process, g) for g in self.processes):
            return False
        if self.tasks is None:
            return True
        return task is not None and any(
            fnmatch.fnmatchcase(task, g) for g in self.tasks
        )


class MappingRules:
    def __init__(self, defaults: dict[str, Setting], rules: list[Rule]):
        self.defaults = defaults
        self.rules = rules

    def with_defaults(self, **values: Any) -> "MappingRules":
        """These rules with some defaults replaced (command-line options)."""
        defaults = dict(self.defaults)
        for key, value in values.items():
            if key not in defaults:
                raise MappingError(f"unknown setting {key!r}")
            defaults[key] = Setting(value, f"command line ({key})")
        return MappingRules(defaults, self.rules)

    @classmethod
    def load(cls, extra_files: list[Path] | tuple[Path, ...] = ()) -> "MappingRules":
        defaults: dict[str, Setting] = {}
        rules: list[Rule] = []
        for path in [DEFAULT_MAPPINGS, *extra_files]:
            file_defaults, file_rules = _read_file(
                Path(path), known=set(defaults) or None
            )
            for key, value in file_defaults.items():
                defaults[key] = value
            rules.extend(file_rules)
        return cls(defaults, rules)

    def resolve(self, process: str, task: str | None = None) -> "Settings":
        values = dict(self.defaults)
        for rule in self.rules:
            if not rule.matches(process, task):
                continue
            for key, value in rule.values.items():
                old = values[key].value
                if key in _MERGED_DICTS:
                    value = {**(old or {}), **(value or {})}
                elif key in _MERGED_LISTS:
                    value = list(dict.fromkeys([*(old or []), *(value or [])]))
                values[key] = Setting(value, rule.origin)
        return Settings(values)


class Settings:
    """The settings in force for one process or task, each with its origin."""

    def __init__(self, values: dict[str, Setting]):
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key].value

    def origin(self, key: str) -> str:
        return self._values[key].origin


def _display(path: Path) -> str:
    if path == DEFAULT_MAPPINGS:
        return DEFAULT_LABEL
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_file(
    path: Path, known: set[str] | None
) -> tuple[dict[str, Setting], list[Rule]]:
    name = _display(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(
            f"{name}: cannot read mapping file: {exc.strerror}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise MappingError(f"{name}:{where}: not valid YAML") from None
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        raise MappingError(f"{name}: expected a mapping with 'defaults' and/or 'rules'")
    unknown = set(data) - {"version", "defaults", "rules"}
    if unknown:
        raise MappingError(
            f"{name}: unknown top-level key(s) {', '.join(sorted(unknown))} "
            "(allowed: version, defaults, rules)"
        )
    if data.get("version", 1) != 1:
        raise MappingError(f"{name}: version must be 1")
    defaults_raw = data.get("defaults")
    defaults_raw = {} if defaults_raw is None else defaults_raw
    if not isinstance(defaults_raw, dict):
        raise MappingError(f"{name}: defaults: expected a mapping of setting: value")
    if known is not None:
        _check_keys(name, "defaults", defaults_raw, known)
    defaults = {}
    for key, value in defaults_raw.items():
        _check_value(name, f"defaults.{key}", key, value)
        defaults[key] = Setting(value, f"{name}:defaults.{key}")
    settings_known = known if known is not None else set(defaults)
    rules = []
    raw_rules = data.get("rules")
    raw_rules = [] if raw_rules is None else raw_rules
    if not isinstance(raw_rules, list):
        raise MappingError(f"{name}: rules: expected a list")
    for i, raw in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(raw, dict):
            raise MappingError(
                f"{name}: {where}: expected a mapping with processes/tasks/set"
            )
        extra = set(raw) - {"processes", "tasks", "set", "name"}
        if extra:
            raise MappingError(
                f"{name}: {where}: unknown key(s) {', '.join(sorted(extra))} "
                "(allowed: name, processes, tasks, set)"
            )
        processes = _globs(name, f"{where}.processes", raw.get("processes", ["*"]))
        tasks = raw.get("tasks")
        tasks = None if tasks is None else _globs(name, f"{where}.tasks", tasks)
        values = raw.get("set") or {}
        if not isinstance(values, dict):
            raise MappingError(
                f"{name}: {where}.set: expected a mapping of setting: value"
            )
        _check_keys(name, f"{where}.set", values, settings_known)
        for key in values:
            if key in ESTATE_WIDE:
                raise MappingError(
                    f"{name}: {where}.set.{key}: holds for the whole estate: set it "
                    f"under defaults (or on the command line), not in a rule"
                )
        for key, value in values.items():
            _check_value(name, f"{where}.set.{key}", key, value)
        label = f"{name}:{where}" + (f" ({raw['name']})" if raw.get("name") else "")
        rules.append(Rule(processes, tasks, dict(values), label))
    return defaults, rules


def _globs(name: str, where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{name}: {where}: expected a glob or a list of globs")
    return tuple(value)


def _check_keys(name: str, where: str, values: dict, known: set[str]) -> None:
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise MappingError(f"{name}: {where}: unknown setting {key!r}{hint}")


def _check_value(name: str, where: str, key: str, value: Any) -> None:
    expect = {
        "tags": list,
        "default_args": dict,
        "batch_job_queue_renames": dict,
        "sundial_ecs_default_cpu": int,
        "sundial_ecs_default_memory": int,
        "emr_watch_timeout_seconds": int,
        "inline_secrets": bool,
        "aws_deferrable": bool,
        "dags_paused_on_deploy": bool,
    }.get(key)
    if expect is not None and not isinstance(value, expect):
        raise MappingError(f"{name}: {where}: expected a {expect.__name__}")
    if key == "airflow_version":
        from migrate.target import MINORS

        if value not in MINORS:
            raise MappingError(
                f"{name}: {where}: {value!r} is not an Airflow version sundial-migrate "
                f"writes for: choose one of {', '.join(MINORS)} (as a string)"
            )
    if key == "batch_job_definitions" and value not in ("register", "external"):
        raise MappingError(f"{name}: {where}: must be 'register' or 'external'")
    if key == "sns_notifications" and value not in ("also", "instead"):
        raise MappingError(f"{name}: {where}: must be 'also' or 'instead'")
    if key == "sns_topic_arn" and value is not None:
        if not isinstance(value, str) or not re.fullmatch(
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?", value
        ):
            raise MappingError(
                f"{name}: {where}: expected an SNS topic ARN "
                "(arn:aws:sns:REGION:ACCOUNT:NAME) or null"
            )
    if key == "sundial_notifications_mode" and value not in ("email", "all"):
        raise MappingError(f"{name}: {where}: must be 'email' or 'all'")
    if key == "aws_poll_seconds" and value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MappingError(
                f"{name}: {where}: expected a whole number of seconds or null"
            )
    if key == "shell_working_directory" and value is not None:
        if not isinstance(value, str) or not value.startswith("/"):
            raise MappingError(
                f"{name}: {where}: expected an absolute directory path or null"
            )
    if key == "secret_env_pattern":
        try:
            re.compile(value)
        except (re.error, TypeError):
            raise MappingError(
                f"{name}: {where}: not a valid regular expression"
            ) from None
    if key == "default_args" and isinstance(value, dict):
        for arg in value:
            if not isinstance(arg, str) or not arg.isidentifier():
                raise MappingError(f"{name}: {where}: {arg!r} is not an argument name")
