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


def convert_estate(
    processes: list[ProcessDefinition],
    rules: MappingRules,
    timezone: str,
    problems: list[Problem] | None = None,
) -> list[DagModel]:
    """One DagModel per process.  A process whose conversion fails unexpectedly becomes a
    problem line (when ``problems`` is given) and the others are still converted."""
    ids = dag_ids(processes, rules)
    by_base: dict[str, list[str]] = {}
    for name in ids:
        by_base.setdefault(base_dag_id(name, rules), []).append(name)
    models = []
    for process in sorted(processes, key=lambda p: p.name):
        try:
            model = convert_process(process, ids[process.name], rules, timezone)
        except (
            Exception
        ) as exc:  # a bug of ours must not cost the user the other processes
            if problems is None:
                raise
            problems.append(
                Problem(
                    str(process.source),
                    process.name,
                    None,
                    f"internal error while converting: {type(exc).__name__}: {exc}",
                    "please report this with the definition; the other processes were converted",
                )
            )
            continue
        base = base_dag_id(process.name, rules)
        clash = [n for n in by_base[base] if n != process.name]
        if clash:
            model.findings.insert(
                0,
                Finding(
                    "approximated",
                    "process_definition_name",
                    f"the name sanitizes to {base!r} like {', '.join(map(repr, clash))}; "
                    f"this DAG is {model.dag_id!r} (ids assigned in name order)",
                ),
            )
        models.append(model)
    return models
