"""`migrate convert` as a library call: load -> model -> rules -> IR -> code -> report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.codegen.python import render_dag
from migrate.convert import convert_estate
from migrate.ir import DagModel, Finding
from migrate.mapping.rules import MappingRules
from migrate.output import SyncResult, sync
from migrate.problems import Problem
from migrate.report import dumps, parity_json, parity_markdown, provenance_json
from migrate.sundial.load import load_sources
from migrate.support import SUPPORT_PACKAGE

# Airflow's plugins manager imports every .py file under the plugins folder as a top-level
# module; only the plugin entry point should be (the package is imported as sundial_compat.*).
PLUGINS_IGNORE = "# written by sundial-migrate\n*\n!sundial_compat_plugin.py\n"


class UsageError(ValueError):
    """The command cannot run at all (exit code 2)."""


@dataclass
class ConvertResult:
    models: list[DagModel] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    sync: SyncResult | None = None

    def exit_code(self, strict: bool) -> int:
        if self.problems:
            return 1
        if strict and any(
            f.severity != "exact" for m in self.models for f in m.findings
        ):
            return 1
        return 0


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone {name!r} is not an IANA time zone (e.g. UTC, America/New_York)"
        ) from None
    return name


def convert(
    sources: list[Path],
    out: Path,
    mappings: list[Path] | tuple[Path, ...] = (),
    timezone: str = "UTC",
    progress=None,
    force: bool = False,
    inline_secrets: bool = False,
) -> ConvertResult:
    check_timezone(timezone)
    rules = MappingRules.load(list(mappings))
    if inline_secrets:
        rules = rules.with_defaults(inline_secrets=True)
    loaded = load_sources(sources)
    models = convert_estate(loaded.processes, rules, timezone, loaded.problems)
    _report_shared_aux_files(models)
    result = ConvertResult(models=models, problems=loaded.problems)
    outputs: dict[str, str] = {}
    for model in progress(models) if progress else models:
        outputs[model.file] = render_dag(model)
        outputs.update(model.aux_files)
    if any(m.support_modules for m in models):
        # the whole package (operators, the Quartz timetable, its engine, the plugin that
        # registers it), so DAG imports and the registered timetable share one source
        for src in sorted(SUPPORT_PACKAGE.rglob("*.py")):
            rel = src.relative_to(SUPPORT_PACKAGE).as_posix()
            outputs[f"plugins/sundial_compat/{rel}"] = src.read_text(encoding="utf-8")
        outputs["plugins/sundial_compat/.airflowignore"] = PLUGINS_IGNORE
    result.report = parity_json(models, loaded.problems, timezone)
    outputs["report/parity.json"] = dumps(result.report)
    outputs["report/parity.md"] = parity_markdown(result.report)
    outputs["report/provenance.json"] = dumps(provenance_json(models))
    result.sync = sync(Path(out), outputs, force=force)
    result.problems.extend(result.sync.refused)
    return result


def _report_shared_aux_files(models: list[DagModel]) -> None:
    """Sundial named Batch job definitions after the task alone, so processes with a task of
    the same name shared one definition.  Where their specs differ, say so on each process.
    """
    owners: dict[str, list[DagModel]] = {}
    for model in models:
        for rel in model.aux_files:
            owners.setdefault(rel, []).append(model)
    for rel, sharing in sorted(owners.items()):
        if len({m.aux_files[rel] for m in sharing}) < 2:
            continue
        names = ", ".join(repr(m.process) for m in sharing)
        for model in sharing:
            model.findings.append(
                Finding(
                    "approximated",
                    "task_definitions",
                    f"{rel} is shared by processes {names} with different contents (Sundial named "
                    "job definitions after the task alone, so each run re-registered it, as the "
                    f"generated register task will); the file holds {sharing[-1].process!r}'s version",
                )
            )
