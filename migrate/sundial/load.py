"""Find and read Sundial definition files: JSON or YAML, one definition or a list, or
directories of them (including a directory written by ``migrate export``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from migrate.problems import Problem
from migrate.sundial.model import ProcessDefinition, SourceRef
from migrate.sundial.wire import read_process

SUFFIXES = (".json", ".yaml", ".yml")
EXPORT_MANIFEST = "manifest.json"
EXPORT_DEFINITIONS = "process_definitions"


@dataclass
class LoadResult:
    processes: list[ProcessDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class SourceError(Exception):
    """A SOURCE argument that cannot be read at all (missing path, not a definitions file)."""


def definition_files(sources: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        source = Path(source)
        if source.is_dir():
            if (source / EXPORT_MANIFEST).is_file() and (
                source / EXPORT_DEFINITIONS
            ).is_dir():
                source = source / EXPORT_DEFINITIONS
            files += sorted(
                p
                for p in source.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        elif source.is_file():
            files.append(source)
        else:
            raise SourceError(f"{source}: no such file or directory")
    # One order whatever the order of SOURCE arguments (it decides which of two
    # definitions with one name is kept), each file once.
    unique: dict[Path, Path] = {}
    for path in files:
        key = path.resolve()
        if key not in unique or str(path) < str(unique[key]):
            unique[key] = path
    return sorted(unique.values(), key=str)


def load_sources(sources: Iterable[Path]) -> LoadResult:
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in definition_files(sources):
        for parsed in read_definition_file(path):
            if isinstance(parsed, Problem):
                result.problems.append(parsed)
                continue
            duplicate = duplicate_problem(parsed.name, str(parsed.source), seen)
            if duplicate:
                result.problems.append(duplicate)
                continue
            result.processes.append(parsed)
    return result


def read_definition_file(path: Path) -> list[ProcessDefinition | Problem]:
    """Every definition in one file, in order, or the problems that stop it being read."""
    problems: list[Problem] = []
    out: list[ProcessDefinition | Problem] = []
    for data, ref in _read_file(path, problems):
        parsed = read_process(data, ref)
        if isinstance(parsed, list):
            out.extend(parsed)
        else:
            out.append(parsed)
    return problems + out


def duplicate_problem(name: str, source: str, seen: dict[str, str]) -> Problem | None:
    """Sundial's process names are unique: the first definition (in path order, then
    position in its file) wins.
    ``seen`` maps the names so far to where they were defined."""
    if name in seen:
        return Problem(
            source,
            name,
            "process_definition_name",
            f"duplicate process name (also defined in {seen[name]})",
            "process names are unique in Sundial; remove or rename one",
        )
    seen[name] = source
    return None


def _read_file(path: Path, problems: list[Problem]):
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                name,
                None,
                None,
                f"not UTF-8 text (byte {exc.start})",
                "save the file as UTF-8",
            )
        )
        return []
    except OSError as exc:
        problems.append(Problem(name, None, None, f"cannot read: {exc.strerror}"))
        return []
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(
                name,
                None,
                None,
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                "fix the syntax",
            )
        )
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problems.append(
            Problem(
                name,
                None,
                None,
                f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                "fix the syntax",
            )
        )
        return []
    except (ValueError, OverflowError) as exc:  # e.g. an integer of 5,000 digits
        problems.append(
            Problem(
                name,
                None,
                None,
                f"cannot be read: {' '.join(str(exc).split(';')[0].split())[:160]}",
                "Sundial's numbers fit in 64 bits: fix the value",
            )
        )
        return []
    except RecursionError:
        problems.append(
            Problem(
                name,
                None,
                None,
                "nested too deeply to read",
                "Sundial definitions are a few levels deep",
            )
        )
        return []
    if isinstance(data, dict):
        return [(data, SourceRef(name))]
    if isinstance(data, list):
        return [(item, SourceRef(name, i)) for i, item in enumerate(data)]
    problems.append(
        Problem(
            name,
            None,
            None,
            f"expected a process definition (an object) or a list of them, got {type(data).__name__}",
        )
    )
    return []
