"""Load generated DAGs with Airflow's own DagBag and keep what the diff needs.

Each file is parsed by ``DagBag.process_file`` (what the DAG processor runs); of each DAG
only a small record survives: its id, file, paused-on-creation flag, the Sundial process
named in its ``doc_md`` and its timetable, as the scheduler would see it: the core
timetable's class and ``serialize()`` form (the scheduler deserializes exactly that).
Large folders are parsed by worker processes (fork), in chunks, with progress.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from migrate.stdio import quiet_dependency_warnings

_DOC_PROCESS = re.compile(
    r"\ASundial process `(.*)`, migrated by sundial-migrate\.(?:\n|\Z)", re.DOTALL
)
_CHUNK = 50
_PARALLEL_FROM = 300  # files; below this, forking costs more than it saves


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    file: str  # relative to the dags folder
    timetable_type: str  # importable name of the core timetable class
    timetable_data: str  # its serialize() form, as canonical JSON
    summary: str
    paused_upon_creation: bool
    process: str | None  # the Sundial process named in doc_md
    has_start_date: bool = False

    @property
    def timetable_key(self) -> tuple[str, str]:
        return (self.timetable_type, self.timetable_data)


@dataclass
class LoadedDags:
    dags: list[DagInfo] = field(default_factory=list)
    import_errors: dict[str, str] = field(default_factory=dict)  # file -> last line


def plugins_folder_for(dags_dir: Path) -> Path | None:
    """DIR/../plugins when DIR is a ``dags`` folder (convert's layout), if it exists."""
    dags_dir = Path(dags_dir).resolve()
    candidate = dags_dir.parent / "plugins"
    if dags_dir.name == "dags" and candidate.is_dir():
        return candidate
    return None


def use_plugins_folder(plugins: Path | None) -> None:
    """Make the plugins folder importable, as Airflow does (must precede DAG parsing)."""
    if plugins is None:
        return
    os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(plugins))
    if str(plugins) not in sys.path:
        sys.path.insert(0, str(plugins))
        import importlib

        importlib.invalidate_caches()


def registered_timetables(plugins: Path | None) -> set[str]:
    """Importable names of the timetables the plugins in ``plugins`` register, found the
    way Airflow finds them (its own plugin-directory loader, .airflowignore honoured).
    """
    if plugins is None:
        return set()
    from airflow._shared.module_loading import qualname
    from airflow._shared.plugins_manager.plugins_manager import (
        _load_plugins_from_plugin_directory,
    )

    found, _errors = _load_plugins_from_plugin_directory(str(plugins))
    return {qualname(cls) for p in found for cls in (p.timetables or [])}


def dag_files(dags_dir: Path) -> list[Path]:
    return sorted(p for p in Path(dags_dir).rglob("*.py") if p.is_file())


def load_dags(dags_dir: Path, progress=None, workers: int | None = None) -> LoadedDags:
    """Parse every ``*.py`` under ``dags_dir``; ``progress(n)`` is called per chunk done."""
    loader = DagLoader(dags_dir, progress, workers)
    try:
        return loader.result()
    finally:
        loader.close()


class DagLoader:
    """Parses the DAG folder in worker processes while the caller does other work.

    The workers are forked at once, before the caller loads anything big, so they share
    only Airflow's imports with it.  ``map`` runs other work on the same workers."""

    def __init__(self, dags_dir: Path, progress=None, workers: int | None = None):
        files = [str(p) for p in dag_files(dags_dir)]
        self.root = str(Path(dags_dir))
        self.total = len(files)
        chunks = [files[i : i + _CHUNK] for i in range(0, len(files), _CHUNK)]
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if len(files) >= _PARALLEL_FROM else 1
        self.progress = progress
        self.pool = None
        self._parts: list = []
        if workers > 1 and len(chunks) > 1:
            import multiprocessing

            _prepare()  # import Airflow once, before forking
            self.pool = multiprocessing.get_context("fork").Pool(workers)
            self._parts = [
                self.pool.apply_async(
                    _load_chunk, ((self.root, c),), callback=self._done
                )
                for c in chunks
            ]
        else:
            self._chunks = chunks

    def _done(self, part) -> None:
        if self.progress:
            self.progress(part[2])

    def result(self) -> LoadedDags:
        out = LoadedDags()
        if self.pool is None:
            parts = []
            for chunk in self._chunks:
                part = _load_chunk((self.root, chunk))
                self._done(part)
                parts.append(part)
        else:
            parts = [p.get() for p in self._parts]
        for infos, errors, _n in parts:
            out.dags.extend(infos)
            out.import_errors.update(errors)
        out.dags.sort(key=lambda d: (d.dag_id, d.file))
        return out

    def map(self, func, items: list) -> list:
        if self.pool is None or len(items) < 2:
            return [func(i) for i in items]
        return self.pool.map(func, items, chunksize=1)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


def _prepare() -> None:
    quiet_dependency_warnings()
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401
    from airflow.serialization.encoders import coerce_to_core_timetable  # noqa: F401


def _load_chunk(
    args: tuple[str, list[str]],
) -> tuple[list[DagInfo], dict[str, str], int]:
    from airflow._shared.module_loading import qualname
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.utils.file import get_unique_dag_module_name

    root, files = args
    quiet_dependency_warnings()
    bag = DagBag(dag_folder=root, collect_dags=False, load_op_links=False)
    infos: list[DagInfo] = []
    errors: dict[str, str] = {}
    for path in files:
        rel = os.path.relpath(path, root)
        try:
            bag.process_file(path, only_if_updated=False, safe_mode=False)
        except Exception as exc:  # noqa: BLE001 - a broken file is a finding
            errors[rel] = f"{type(exc).__name__}: {exc}"
        for err_path, text in list(bag.import_errors.items()):
            lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
            errors[rel] = lines[-1].strip() if lines else "import error"
        bag.import_errors.clear()
        for dag in list(bag.dags.values()):
            infos.append(_info(dag, rel, coerce_to_core_timetable, qualname))
        bag.dags.clear()
        sys.modules.pop(get_unique_dag_module_name(path), None)
    return infos, errors, len(files)


def _info(dag, rel: str, coerce, qualname) -> DagInfo:
    timetable = coerce(dag.timetable)
    data = json.dumps(timetable.serialize(), sort_keys=True, default=str)
    doc = dag.doc_md or ""
    match = _DOC_PROCESS.match(doc)
    return DagInfo(
        dag_id=dag.dag_id,
        file=rel,
        timetable_type=qualname(type(timetable)),
        timetable_data=data,
        summary=str(getattr(timetable, "summary", "")),
        paused_upon_creation=_paused(dag.is_paused_upon_creation),
        process=match.group(1) if match else None,
        has_start_date=dag.start_date is not None,
    )


def _paused(flag: bool | None) -> bool:
    if flag is not None:
        return bool(flag)
    from airflow.configuration import conf  # None: Airflow's configured default

    return conf.getboolean("core", "dags_are_paused_at_creation", fallback=True)
