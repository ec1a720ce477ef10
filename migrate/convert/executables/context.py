"""What a mapper of one Sundial task works with, and the helpers every mapper shares:
the task's place in the definition, its settings, the ledger of field fates, and env vars
split into plain ones and secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from migrate.convert.ledger import FieldLedger
from migrate.ir import DagModel, Ref, TaskNode
from migrate.jsontext import dumps_indented
from migrate.mapping.rules import Settings
from migrate.sundial.model import EnvVar, ProcessDefinition, TaskDefinition
from migrate.sundial.wire import task_path

SUPPORT = "sundial_compat"


@dataclass
class TaskContext:
    process: ProcessDefinition
    task: TaskDefinition
    settings: Settings
    ledger: FieldLedger
    dag: DagModel
    task_id: str  # the Airflow task id of the Sundial task
    path: str = dataclass_field(init=False)  # the task's path in the definition
    _executable: str = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = task_path(self.task.name)
        self._executable = f"{self.path}.executable.{self.task.kind}"

    def field(self, *parts: str) -> str:
        """A path under the task's executable (no parts: the executable itself)."""
        return ".".join((self._executable, *parts))

    def rule(self, key: str) -> str:
        return f"setting {key} from {self.settings.origin(key)}"

    def node(self, operator: Ref, support_module: str) -> TaskNode:
        """The one Airflow task that stands for this Sundial task."""
        self.dag.support_modules.add(support_module)
        return TaskNode(
            task_id=self.task_id,
            operator=operator,
            sundial_task=self.task.name,
        )

    def spec_file(self, rel: str, spec: dict) -> None:
        """An AWS request document written next to the DAGs (for review or IaC)."""
        self.dag.aux_files[rel] = dumps_indented(spec, sort_keys=True)


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
