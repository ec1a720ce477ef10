"""What one Sundial process contributes to the output, built in one go: mapped to the
intermediate model, rendered, and its report fragments encoded.  Units are what the
worker processes send back and what the convert cache remembers, so an estate is never
held as models: a model lives only while its unit is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.codegen.python import render_dag
from migrate.convert import internal_error
from migrate.convert.process import convert_process
from migrate.html.page import PagePlan, executors, plan_page
from migrate.ir import Finding
from migrate.mapping.rules import MappingRules
from migrate.output import encode, sha256
from migrate.problems import Problem
from migrate.report import (
    ProcessSummary,
    TaskFields,
    exact_counts,
    kind_counts,
    parity_entry_parts,
    provenance_json,
    summarize,
)
from migrate.sundial.model import ProcessDefinition


@dataclass(frozen=True)
class BuildSpec:
    """What a unit depends on besides its definition: its DAG id and the name-clash
    findings placed first.  (Findings that depend on other processes' outputs, e.g. a
    shared job definition, are appended to the report fragments by the parent.)"""

    dag_id: str
    leading: tuple[Finding, ...] = ()


def spec_key(spec: BuildSpec, trailing: tuple[Finding, ...] = ()) -> str:
    """A digest of everything besides the definition a unit's outputs were made from."""
    if not spec.leading and not trailing:
        return "id:" + spec.dag_id
    return sha256(
        repr(
            (
                spec.dag_id,
                [tuple(f.as_dict().values()) for f in spec.leading],
                [tuple(f.as_dict().values()) for f in trailing],
            )
        ).encode("utf-8", "backslashreplace")
    )


@dataclass
class UnitMeta:
    """The small part of a unit, kept for the whole estate (and in the cache)."""

    summary: ProcessSummary
    spec_key: str
    dag_digest: str
    aux_digests: dict[str, str] = field(default_factory=dict)
    support: bool = False
    # for the HTML report and the estate-wide parts of the reports
    page: str | None = None  # its HTML page, relative to the output directory
    page_digest: str | None = None  # set once the page is written
    executors: tuple[str, ...] = ()
    tasks: int = 0
    kinds: tuple[tuple[str, str, str, int], ...] = ()  # report.kind_counts
    exact_kinds: tuple[tuple[str, int], ...] = ()  # report.exact_counts
    message_keys: tuple[str, ...] = ()  # the long messages its parity.json line names
    shape_keys: tuple[str, ...] = ()  # the shapes its provenance.json line names


@dataclass
class BuiltUnit:
    """A freshly built unit: the small part plus the texts to write (bytes, UTF-8).  Its
    parity.json line is cut in two (see report.parity_entry_parts); its page is planned
    here and written once the estate's findings are known (``plan``, kept by the worker
    that built it)."""

    meta: UnitMeta
    dag: bytes
    aux: dict[str, str]
    entry_head: bytes
    entry_tail: bytes
    provenance: bytes
    messages: dict[str, str]  # long messages its parity.json line names
    shapes: dict[str, str]  # provenance shapes its provenance.json line names
    plan: PagePlan | None = None
    written: tuple | None = None  # what writing the DAG file did (OutputWriter.note)


def build_unit(
    process: ProcessDefinition, spec: BuildSpec, rules: MappingRules, tz: str
) -> BuiltUnit | Problem:
    """One process, converted.  A failure of ours becomes a problem line, so the other
    processes are still converted."""
    try:
        model = convert_process(process, spec.dag_id, rules, tz)
        model.findings[:0] = list(spec.leading)
        dag = encode(render_dag(model))
        provenance, shapes = provenance_json(model)
        # one TaskFields: the page and the report split the same fields
        names = TaskFields.of(process)
        plan = plan_page(process, model, tz, names)
        head, tail, messages = parity_entry_parts(model, plan.path)
        meta = UnitMeta(
            summary=summarize(model),
            spec_key=spec_key(spec),
            dag_digest=sha256(dag),
            aux_digests={
                rel: sha256(encode(text)) for rel, text in model.aux_files.items()
            },
            support=bool(model.support_modules),
            page=plan.path,
            executors=executors(process),
            tasks=len(process.tasks),
            kinds=kind_counts(model.findings, names),
            exact_kinds=exact_counts(model.findings, names),
            message_keys=tuple(sorted(messages)),
            shape_keys=tuple(sorted(shapes)),
        )
    except Exception as exc:  # a bug of ours must not cost the other processes
        return internal_error(process, exc)
    return BuiltUnit(
        meta,
        dag,
        dict(model.aux_files),
        encode(head),
        encode(tail),
        encode(provenance),
        messages,
        shapes,
        plan,
    )
