"""What `migrate convert` remembers between runs, so a re-run converts only what changed.

Kept in ``DIR/.sundial-migrate-cache/convert.pickle`` (tool-internal; delete it, or pass
``--no-cache``, to convert everything again).  It holds, per definition file, its size and
modification time and what was read from it; per process, the small part of its unit (DAG
digest, report summary, the inputs it was built with) and where its fragments sit in the
report files; the size and modification time of every file written; and the proven
schedule choices.  A cache is used only by the same code (every source file of the package
and the default rules are part of its fingerprint), the same mapping rules, zone and
options; anything it cannot vouch for (a changed stat, an edited report) is converted again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path

from migrate.mapping.rules import DEFAULT_MAPPINGS, MappingRules
from migrate.output import write_atomic
from migrate.units import UnitMeta

CACHE_DIR = ".sundial-migrate-cache"
CACHE_FILE = "convert.pickle"
FORMAT = 2
PACKAGE = Path(__file__).resolve().parent

Stat = tuple[int, int]  # size, mtime in ns


def file_stat(path: str | Path) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def fingerprint(rules: MappingRules, tz: str) -> str:
    """Everything besides the definitions that decides the output."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")) + [Path(DEFAULT_MAPPINGS)]:
        digest.update(path.relative_to(PACKAGE.parent).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(repr((rules.defaults, rules.rules)).encode())
    digest.update(repr((tz, FORMAT, sys.version_info[:2])).encode())
    digest.update(_airflow_version().encode())
    digest.update(_dot_version().encode())
    return digest.hexdigest()


def _dot_version() -> str:
    from migrate.html.layout import dot_version

    return dot_version()  # the pages' graphs are dot's layouts, or absent


def _airflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:  # the proofs run Airflow's own timetables
        return version("apache-airflow")
    except PackageNotFoundError:
        return ""


@dataclass
class CachedUnit:
    position: tuple[str, int]  # definition file and position in it
    meta: UnitMeta
    fragments: tuple[tuple[int, int], ...]  # (offset, length) in each FRAGMENT_FILES


@dataclass
class ConvertCache:
    fingerprint: str
    files: dict[str, tuple[Stat, list]] = field(default_factory=dict)
    units: dict[str, CachedUnit] = field(default_factory=dict)
    reports: dict[str, tuple[Stat, str]] = field(default_factory=dict)
    outputs: dict[str, Stat] = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    # the long messages and provenance shapes the remembered report lines name
    messages: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, out: Path, fp: str) -> "ConvertCache":
        path = Path(out) / CACHE_DIR / CACHE_FILE
        try:
            with open(path, "rb") as handle:
                data = pickle.load(handle)
        except Exception:  # missing or damaged: never worse than no cache
            return cls(fp)
        if not isinstance(data, cls) or data.fingerprint != fp:
            return cls(fp)
        return data

    def save(self, out: Path) -> None:
        path = Path(out) / CACHE_DIR / CACHE_FILE
        write_atomic(path, pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
