"""The export directory, written atomically.

    DIR/process_definitions/<safe name>.json   one definition each, API wire shape
    DIR/history/processes.jsonl                one run per line, oldest first
    DIR/manifest.json                          written last: what, from where, checksums

Everything is written into ``.<DIR>.partial-*`` next to DIR and renamed into place at the
end; an export that fails or is interrupted leaves no ``DIR/manifest.json``, so it never
looks complete (``migrate convert`` only treats a directory with a manifest as an export).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from migrate.extract.http import ExportError
from migrate.jsontext import dumps_indented

UTC = timezone.utc
DEFINITIONS = "process_definitions"
HISTORY = "history"
HISTORY_FILE = "history/processes.jsonl"
MANIFEST = "manifest.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def iso(moment: datetime) -> str:
    """One time format for both sources: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def history_record(
    process_id, name, start: datetime, end: datetime | None, status, tasks: list[dict]
) -> dict:
    """A run as the export writes it; ``tasks`` hold name/start/end/status/previous_attempts."""
    rows = sorted(
        tasks,
        key=lambda t: (t["start"], t["previous_attempts"], str(t["name"])),
    )
    if end is None and status != "running":
        ends = [t["end"] for t in rows if t["end"] is not None]
        end = max(ends) if ends else None
    return {
        "process_id": str(process_id),
        "process_definition_name": name,
        "start_time": iso(start),
        "end_time": iso(end) if end else None,
        "status": str(status),
        "tasks": [
            {
                "task_id": str(t["task_id"]) if t.get("task_id") is not None else None,
                "task_definition_name": t["name"],
                "start_time": iso(t["start"]),
                "end_time": iso(t["end"]) if t["end"] else None,
                "status": str(t["status"]),
                "previous_attempt_count": int(t["previous_attempts"]),
            }
            for t in rows
        ],
    }


def safe_file_name(name: str) -> str:
    """A portable file name for a process name.  Names that had to be changed get a short
    hash of the original, so two names never share a file (``sales report`` and
    ``sales_report`` both exist in real estates)."""
    safe = _UNSAFE.sub("_", name).strip(".") or "_"
    if safe != name or name != name.lower() or len(safe) > 100:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:100]}-{digest}"
    return safe + ".json"


def dumps_definition(definition: Any) -> str:
    """``json.dumps(definition, indent=2, ensure_ascii=False) + "\n"``, faster."""
    return dumps_indented(definition)


def dumps_run(record: dict) -> bytes:
    """One line of ``history/processes.jsonl`` (a record from ``history_record``)."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode(
        "utf-8", "surrogatepass"
    )


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _write_file(path: str, data: bytes) -> None:
    """``Path(path).write_bytes(data)`` in three system calls (``open()`` adds an fstat and
    an isatty): ten thousand definition files are created on a slow disk in a fraction of
    the time."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


TOOL = "sundial-migrate"  # the manifest's "tool": what marks an export as ours


def _not_a_previous_export(out: Path) -> str | None:
    """Why ``out`` may not be replaced, or None: it must be an export this tool wrote,
    holding nothing but the files its manifest lists (a web app's ``manifest.json``, or
    the user's notes added to an export, are not ours to delete)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "is not a previous export (no manifest.json)"
    except (OSError, ValueError, UnicodeDecodeError):
        return "its manifest.json is not an export manifest"
    if not isinstance(manifest, dict) or manifest.get("tool") != TOOL:
        return "its manifest.json was not written by sundial-migrate export"
    files = manifest.get("files")
    if not isinstance(files, dict):
        return "its manifest.json lists no files"
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if rel != MANIFEST and rel not in files:
            return f"holds {rel}, which the previous export did not write"
    return None


class ExportWriter:
    """Collects the files of one export in a temporary directory next to ``out``."""

    def __init__(self, out: Path):
        self.out = Path(out).absolute()
        if self.out.exists():
            if not self.out.is_dir():
                raise ExportError(f"--out {out}: exists and is not a directory")
            if any(self.out.iterdir()):
                problem = _not_a_previous_export(self.out)
                if problem:
                    raise ExportError(
                        f"--out {out}: exists, is not empty and {problem} (choose a new "
                        "directory; an export replaces only an older export, whole)"
                    )
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.out.name}.partial-", dir=self.out.parent
                )
            )
        except OSError as exc:
            raise ExportError(
                f"--out {out}: cannot write there ({exc.strerror})"
            ) from None
        (self.tmp / DEFINITIONS).mkdir()
        (self.tmp / HISTORY).mkdir()
        self.files: dict[str, str] = {}
        self.names: dict[str, str] = {}  # file -> process name
        self._history = None
        self._history_hash = None
        self.finished = False

    # -- definitions ------------------------------------------------------------------

    def add_definition(self, name: str, definition: Any, raw: str | None = None) -> str:
        """Write one definition; returns its file.  Two processes whose names map to
        one file (a name crafted to look like another's safe form, or one name listed
        twice with different contents) both keep a file of their own, the second named
        after a hash of its name and content; the very same definition twice is one."""
        rel = f"{DEFINITIONS}/{safe_file_name(name)}"
        text = dumps_definition(definition) if raw is None else raw + "\n"
        data = text.encode("utf-8", "surrogatepass")
        sha = hashlib.sha256(data).hexdigest()
        if rel in self.files:
            if self.names[rel] == name and self.files[rel] == sha:
                return rel  # listed twice by the server: one definition
            digest = hashlib.sha256(
                name.encode("utf-8", "surrogatepass") + b"\0" + data
            ).hexdigest()[:12]
            rel = f"{rel[: -len('.json')]}-{digest}.json"
            if rel in self.files:
                return rel  # that very pair again
        _write_file(os.path.join(self.tmp, rel), data)
        self.files[rel] = sha
        self.names[rel] = name
        return rel

    # -- history ----------------------------------------------------------------------

    def add_run(self, record: dict) -> None:
        self.add_history(dumps_run(record))

    def add_history(self, lines: bytes) -> None:
        """Append lines (each as ``dumps_run`` writes a record) to the history file."""
        if self._history is None:
            self._history = open(self.tmp / HISTORY_FILE, "wb")
            self._history_hash = hashlib.sha256()
        self._history.write(lines)
        self._history_hash.update(lines)

    def _close_history(self) -> None:
        if self._history is None:
            (self.tmp / HISTORY_FILE).write_bytes(b"")
            self.files[HISTORY_FILE] = hashlib.sha256(b"").hexdigest()
            return
        self._history.close()
        self.files[HISTORY_FILE] = self._history_hash.hexdigest()
        self._history = None

    # -- the end ----------------------------------------------------------------------

    def finish(self, manifest: dict) -> dict:
        """Write the manifest (``files`` added), then move the directory into place."""
        self._close_history()
        manifest = dict(manifest)
        manifest["files"] = dict(sorted(self.files.items()))
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        with open(self.tmp / MANIFEST, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        old = None
        if self.out.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent)
            )
            os.rename(self.out, old / "export")
        os.rename(self.tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.finished = True
        return manifest

    def abort(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None
        if not self.finished:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "ExportWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()
