"""Mapping stage: Sundial model + mapping rules -> intermediate model (one DagModel each)."""

from __future__ import annotations

from migrate.convert.naming import assign_unique, sanitize
from migrate.convert.process import convert_process
from migrate.ir import DagModel, Finding
from migrate.mapping.rules import MappingRules
from migrate.sundial.model import ProcessDefinition


def dag_ids(processes: list[ProcessDefinition], rules: MappingRules) -> dict[str, str]:
    """Sundial process name -> unique DAG id (prefix from the rules, sanitized)."""
    return assign_unique(
        [p.name for p in processes],
        lambda name: sanitize(
            rules.resolve(name)["dag_id_prefix"] + name, allow_dot=True
        ),
    )


def convert_estate(
    processes: list[ProcessDefinition], rules: MappingRules, timezone: str
) -> list[DagModel]:
    ids = dag_ids(processes, rules)
    by_id: dict[str, list[str]] = {}
    for name, dag_id in ids.items():
        by_id.setdefault(
            sanitize(rules.resolve(name)["dag_id_prefix"] + name, allow_dot=True), []
        ).append(name)
    models = []
    for process in sorted(processes, key=lambda p: p.name):
        model = convert_process(process, ids[process.name], rules, timezone)
        base = sanitize(
            rules.resolve(process.name)["dag_id_prefix"] + process.name, allow_dot=True
        )
        clash = [n for n in by_id[base] if n != process.name]
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
