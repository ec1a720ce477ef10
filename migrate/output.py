"""The output directory: written atomically, re-runnable, and never clobbering hand edits.

A manifest (``DIR/.sundial-migrate.json``) records the sha256 of every file the tool wrote.
A new run then writes only what changed, removes files it generated earlier for processes
that are gone, and refuses (unless forced) to overwrite or remove a file whose content no
longer matches what it wrote, i.e. a file someone edited.  No path can leave DIR.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from migrate.problems import Problem

MANIFEST = ".sundial-migrate.json"


@dataclass
class SyncResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(text: str) -> bytes:
    # backslashreplace: a lone surrogate from JSON input stays visible, never crashes
    return text.encode("utf-8", errors="backslashreplace")


def safe_path(root: Path, rel: str) -> Path:
    """``root/rel``, refusing anything that would land outside root."""
    if (
        not rel
        or rel.startswith(("/", "\\"))
        or "\x00" in rel
        or ".." in Path(rel).parts
    ):
        raise ValueError(f"unsafe output path {rel!r}")
    path = root / rel
    resolved_root = root.resolve()
    if resolved_root not in path.resolve().parents:
        raise ValueError(f"output path {rel!r} leaves {root}")
    return path


def read_manifest(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {
            k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)
        }
    except (OSError, ValueError, AttributeError):
        return {}


def write_atomic(path: Path, data: bytes) -> None:
    """A reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sync(root: Path, outputs: dict[str, str], force: bool = False) -> SyncResult:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(root)
    result = SyncResult()
    recorded: dict[str, str] = {}
    for rel in sorted(outputs):
        data = encode(outputs[rel])
        digest = sha256(data)
        path = safe_path(root, rel)
        if path.exists():
            current = sha256(path.read_bytes())
            if current == digest:
                result.unchanged.append(rel)
                recorded[rel] = digest
                continue
            if not force and previous.get(rel) != current:
                why = (
                    "was edited since it was generated"
                    if rel in previous
                    else "was not written by sundial-migrate"
                )
                result.refused.append(
                    Problem(
                        str(path),
                        None,
                        None,
                        f"not overwritten: the file {why}",
                        "move your changes into mapping rules, or re-run with --force",
                    )
                )
                if rel in previous:
                    recorded[rel] = previous[rel]
                continue
        write_atomic(path, data)
        result.written.append(rel)
        recorded[rel] = digest
    for rel in sorted(set(previous) - set(outputs)):
        try:
            path = safe_path(root, rel)
        except ValueError:
            continue
        if not path.exists():
            continue
        if not force and sha256(path.read_bytes()) != previous[rel]:
            result.refused.append(
                Problem(
                    str(path),
                    None,
                    None,
                    "not removed although its process is gone: the file was edited since it was generated",
                    "delete it yourself, or re-run with --force",
                )
            )
            recorded[rel] = previous[rel]
            continue
        path.unlink()
        result.removed.append(rel)
    manifest = {"tool": "sundial-migrate", "files": dict(sorted(recorded.items()))}
    write_atomic(root / MANIFEST, encode(json.dumps(manifest, indent=2) + "\n"))
    return result
