"""`migrate convert` as a library call: load -> model -> rules -> IR -> code -> report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrate.codegen.python import render_dag
from migrate.convert import convert_estate
from migrate.ir import DagModel, Finding
from migrate.mapping.rules import MappingRules
from migrate.output import OutputWriter, SyncResult
from migrate.problems import Problem
from migrate.report import (
    Report,
    parity_markdown_lines,
    provenance_entry,
    provenance_lines,
)
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
    report: "Report | None" = None
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
    writer = OutputWriter(Path(out), force=force)
    aux: dict[str, str] = {}  # shared job definition specs: the last process's version
    provenance: list[str] = []
    for model in progress(models) if progress else models:
        writer.put(model.file, render_dag(model))  # written at once, not held
        aux.update(model.aux_files)
        # keep what the reports need, compactly: the task graph is no longer needed
        provenance.append(json.dumps(provenance_entry(model), ensure_ascii=False))
        model.release_code_model()
    for rel in sorted(aux):
        writer.put(rel, aux[rel])
    if any(m.support_modules for m in models):
        # the whole package (operators, the Quartz timetable, its engine, the plugin that
        # registers it), so DAG imports and the registered timetable share one source
        for src in sorted(SUPPORT_PACKAGE.rglob("*.py")):
            rel = src.relative_to(SUPPORT_PACKAGE).as_posix()
            writer.put(f"plugins/sundial_compat/{rel}", src.read_text(encoding="utf-8"))
        writer.put("plugins/sundial_compat/.airflowignore", PLUGINS_IGNORE)
    result.report = Report(models, loaded.problems, timezone)
    writer.put_lines("report/parity.json", result.report.json_lines())
    writer.put_lines("report/parity.md", parity_markdown_lines(result.report))
    writer.put_lines("report/provenance.json", provenance_lines(provenance))
    result.sync = writer.finish()
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
