"""The intermediate model: Airflow DAGs as data, before any code exists.

Values are small typed nodes (``Ref``, ``Call``, ``Literal``, ``JsonDocument``, ``Seconds``,
``XCom``) or plain constants (str, int, float, bool, None, lists, dicts with str keys).  Every
operator argument and DAG argument carries a ``Provenance``: the Sundial fields and the rule
that produced it.  Code generation renders this model; the report queries it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

SEVERITIES = ("exact", "approximated", "unsupported", "manual")


@dataclass(frozen=True)
class Ref:
    """An importable name: ``from module import name``."""

    module: str
    name: str


@dataclass(frozen=True)
class Call:
    func: Ref
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Literal:
    """``airflow.sdk.literal(value)``: Airflow renders the value as-is, never as Jinja."""

    value: Any


@dataclass(frozen=True)
class Seconds:
    """``timedelta(seconds=...)``."""

    seconds: float


@dataclass(frozen=True)
class JsonDocument:
    """``json.loads(<value as indented JSON text>)``: a large constant document (an AWS request
    body: a Batch job definition, an EMR job flow or its steps) written as one string.  Python
    compiles one string far faster than the same value as nested literals, which is most of
    a DAG file's parse time; the value is data either way.  Only plain JSON values inside
    (dicts with str keys, lists, str, int, float, bool, None)."""

    value: Any


class TriggerRuleValue(str):
    """``TriggerRule.<NAME>`` in generated code."""


@dataclass(frozen=True)
class Var:
    """A module-level name the DAG file binds before the DAG (``DagModel.bindings``)."""

    name: str


@dataclass(frozen=True)
class XCom:
    """The return value of another task in the same DAG (``task.output``)."""

    task_id: str


Expr = Union[
    Ref,
    Call,
    Literal,
    JsonDocument,
    Seconds,
    Var,
    XCom,
    str,
    int,
    float,
    bool,
    None,
    list,
    dict,
]


@dataclass(frozen=True)
class Provenance:
    fields: tuple[str, ...]
    rule: str

    def as_dict(self) -> dict:
        return {"fields": list(self.fields), "rule": self.rule}


@dataclass
class Finding:
    severity: str
    field: str
    message: str

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.severity

    def as_dict(self) -> dict:
        return {"severity": self.severity, "field": self.field, "message": self.message}


@dataclass
class Argument:
    value: Any
    provenance: Provenance


@dataclass
class TaskNode:
    task_id: str
    operator: Ref
    arguments: dict[str, Argument] = field(default_factory=dict)
    sundial_task: str | None = None  # None for structural tasks (joins, run outcome)
    var: str = ""  # Python variable name, assigned by code generation

    def set(
        self, name: str, value: Any, fields: tuple[str, ...] | list[str], rule: str
    ) -> None:
        self.arguments[name] = Argument(value, Provenance(tuple(fields), rule))


@dataclass
class DagModel:
    process: str
    dag_id: str
    file: str  # relative to the output directory
    generations: tuple[str, ...]
    doc: str
    arguments: dict[str, Argument] = field(default_factory=dict)
    tasks: list[TaskNode] = field(default_factory=list)
    edges: set[tuple[str, str]] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    # Sundial task name -> Airflow task id whose success means the Sundial task succeeded
    task_map: dict[str, str] = field(default_factory=dict)
    # support modules (in DIR/plugins/sundial_compat) the DAG imports
    support_modules: set[str] = field(default_factory=set)
    # extra files to write (relative path -> text), e.g. AWS job definition specs
    aux_files: dict[str, str] = field(default_factory=dict)
    # things the user must create in Airflow: (kind, id, purpose)
    to_create: list[tuple[str, str, str]] = field(default_factory=list)
    # module-level names bound before the DAG (name -> value), used through ``Var``
    bindings: dict[str, Argument] = field(default_factory=dict)
    # the Airflow minor the file is written for (migrate.target): where names are imported
    airflow: str = "3.3"

    def set(
        self, name: str, value: Any, fields: tuple[str, ...] | list[str], rule: str
    ) -> None:
        self.arguments[name] = Argument(value, Provenance(tuple(fields), rule))

    def release_code_model(self) -> None:
        """Drop the task graph and arguments once the DAG file and provenance are written
        (estates of thousands of processes); findings, task map and the rest stay."""
        self.tasks = []
        self.edges = set()
        self.arguments = {}
        self.bindings = {}

    def task(self, task_id: str) -> TaskNode:
        for node in self.tasks:
            if node.task_id == task_id:
                return node
        raise KeyError(task_id)
