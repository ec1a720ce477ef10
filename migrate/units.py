"""What one Sundial process contributes to the output, built in one go: mapped to the
intermediate model, rendered, and its report fragments encoded.  Units are what the
worker processes send back and what the convert cache remembers, so an estate is never
held as models: a model lives only while its unit is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.codegen.python import render_dag
from migrate.convert.process import convert_process
from migrate.ir import Finding
from migrate.mapping.rules import MappingRules
from migrate.output import encode, sha256
from migrate.problems import Problem
from migrate.report import (
    ProcessSummary,
    markdown_section,
    parity_entry_json,
    provenance_json,
    summarize,
)
from migrate.sundial.model import ProcessDefinition


@dataclass(frozen=True)
class BuildSpec:
    """Everything outside the definition itself that a unit depends on: its DAG id and the
    estate-wide findings (a name clash, a shared job definition), placed first / last.
    """

    dag_id: str
    leading: tuple[Finding, ...] = ()
    trailing: tuple[Finding, ...] = ()

    def key(self) -> str:
        """A digest of the spec, to tell whether a remembered unit was built with it."""
        if not self.leading and not self.trailing:
            return "id:" + self.dag_id
        return sha256(
            repr(
                (
                    self.dag_id,
                    [tuple(f.as_dict().values()) for f in self.leading],
                    [tuple(f.as_dict().values()) for f in self.trailing],
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


@dataclass
class BuiltUnit:
    """A freshly built unit: the small part plus the texts to write (bytes, UTF-8)."""

    meta: UnitMeta
    dag: bytes
    aux: dict[str, str]
    parity_entry: bytes
    markdown: bytes
    provenance: bytes


def build_unit(
    process: ProcessDefinition, spec: BuildSpec, rules: MappingRules, tz: str
) -> BuiltUnit | Problem:
    """One process, converted.  A failure of ours becomes a problem line, so the other
    processes are still converted."""
    try:
        model = convert_process(process, spec.dag_id, rules, tz)
        model.findings[:0] = list(spec.leading)
        model.findings.extend(spec.trailing)
        dag = encode(render_dag(model))
        provenance = encode(provenance_json(model))
    except Exception as exc:  # a bug of ours must not cost the user the other processes
        return Problem(
            str(process.source),
            process.name,
            None,
            f"internal error while converting: {type(exc).__name__}: {exc}",
            "please report this with the definition; the other processes were converted",
        )
    meta = UnitMeta(
        summary=summarize(model),
        spec_key=spec.key(),
        dag_digest=sha256(dag),
        aux_digests={
            rel: sha256(encode(text)) for rel, text in model.aux_files.items()
        },
        support=bool(model.support_modules),
    )
    return BuiltUnit(
        meta,
        dag,
        dict(model.aux_files),
        encode(parity_entry_json(model)),
        encode(markdown_section(model)),
        provenance,
    )
