"""Mapping stage: Sundial model + mapping rules -> intermediate model (one DagModel each)."""

from __future__ import annotations

from migrate.convert.naming import assign_unique, sanitize
from migrate.convert.process import convert_process
from migrate.ir import DagModel, Finding
from migrate.mapping.rules import MappingRules
from migrate.problems import Problem
from migrate.sundial.model import ProcessDefinition


def base_dag_id(name: str, rules: MappingRules) -> str:
    return sanitize(rules.resolve(name)["dag_id_prefix"] + name, allow_dot=True)


def dag_ids(processes: list[ProcessDefinition], rules: MappingRules) -> dict[str, str]:
    """Sundial process name -> unique DAG id (prefix from the rules, sanitized)."""
    return assign_unique(
        [p.name for p in processes], lambda name: base_dag_id(name, rules)
    )


def clash_findings(
    names: list[str], ids: dict[str, str], rules: MappingRules
) -> dict[str, tuple[Finding, ...]]:
    """Names that sanitize to the same DAG id: each says which others, and its id."""
    by_base: dict[str, list[str]] = {}
    for name in sorted(names):
        by_base.setdefault(base_dag_id(name, rules), []).append(name)
    out = {}
    for base, sharing in by_base.items():
        for name in sharing if len(sharing) > 1 else ():
            clash = [n for n in sharing if n != name]
            out[name] = (
                Finding(
                    "approximated",
                    "process_definition_name",
                    f"the name sanitizes to {base!r} like {', '.join(map(repr, clash))}; "
                    f"this DAG is {ids[name]!r} (ids assigned in name order)",
                ),
            )
    return out


def internal_error(process: ProcessDefinition, exc: Exception) -> Problem:
    """A bug of ours, as the one line that stands for the process it cost."""
    return Problem(
        str(process.source),
        process.name,
        None,
        f"internal error while converting: {type(exc).__name__}: {exc}",
        "please report this with the definition; the other processes were converted",
    )


def convert_estate(
    processes: list[ProcessDefinition],
    rules: MappingRules,
    timezone: str,
    problems: list[Problem] | None = None,
) -> list[DagModel]:
    """One DagModel per process.  A process whose conversion fails unexpectedly becomes a
    problem line (when ``problems`` is given) and the others are still converted."""
    ids = dag_ids(processes, rules)
    leading = clash_findings(list(ids), ids, rules)
    models = []
    for process in sorted(processes, key=lambda p: p.name):
        try:
            model = convert_process(process, ids[process.name], rules, timezone)
        except Exception as exc:  # a bug of ours must not cost the other processes
            if problems is None:
                raise
            problems.append(internal_error(process, exc))
            continue
        model.findings[:0] = leading.get(process.name, ())
        models.append(model)
    return models
