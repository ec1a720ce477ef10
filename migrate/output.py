"""The output directory: written atomically, re-runnable, and never clobbering hand edits.

A manifest (``DIR/.sundial-migrate.json``) records the sha256 of every file the tool wrote.
A new run then writes only what changed, removes files it generated earlier for processes
that are gone, and refuses (unless forced) to overwrite or remove a file whose content no
longer matches what it wrote, i.e. a file someone edited.  No path can leave DIR.
"""

from __future__ import annotations

import functools
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
    # abspath first: a relative root is resolved from the current directory, every call.
    resolved_root = _resolved(os.path.abspath(root))
    resolved = os.path.realpath(path)
    if not resolved.startswith(resolved_root + os.sep):
        raise ValueError(f"output path {rel!r} leaves {root}")
    return path


def check_root(root: Path) -> None:
    """Refuse, before anything is written, an output directory that is not a directory or
    that holds a symbolic link leading outside it (``OUT/dags`` -> elsewhere, say): every
    write would be refused one by one, after part of the run was written."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ValueError(
            f"{root} exists and is not a directory: give --out a directory"
        )
    if not root.exists():
        return
    real_root = os.path.realpath(root)
    for path in _own_paths(root):
        if not os.path.islink(path):
            continue
        target = os.path.realpath(path)
        if target == real_root or target.startswith(real_root + os.sep):
            continue
        raise ValueError(
            f"{path} is a symbolic link to {target}, outside {root}: convert writes "
            f"only inside {root}, so nothing was written; replace the link with a "
            "directory (or give --out the place it points to)"
        )


# what convert writes at the top of DIR; anything else there is the user's and left alone
OWN_TOP = (
    "dags",
    "plugins",
    "report",
    "dist",
    "aws",
    "Dockerfile",
    "requirements.txt",
    MANIFEST,
    ".sundial-migrate-cache",
)


def _own_paths(root: Path):
    """Every path below DIR's own top-level names, links not followed."""
    for top in OWN_TOP:
        path = os.path.join(root, top)
        if not os.path.lexists(path):
            continue
        yield path
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        for parent, dirs, files in os.walk(path):  # never follows a link
            for name in dirs + files:
                yield os.path.join(parent, name)


@functools.lru_cache(maxsize=64)
def _resolved(root: str) -> str:
    return os.path.realpath(root)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# files are written through a temporary file (mode 0600); give them the usual mode, so
# an Airflow running as another user can read the DAGs
FILE_MODE = 0o666 & ~_umask()


def read_manifest(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {
            k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)
        }
    except (OSError, ValueError, AttributeError):
        return {}


def write_atomic(path: Path, data: bytes, prefix: str = ".tmp-") -> None:
    """A reader sees the old file or the new one, never half of one.  The temporary file
    beside it is named ``prefix``... with no suffix, so a DAG processor watching the
    folder never takes it for a DAG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class OutputWriter:
    """Writes outputs one at a time (so an estate's text is never all in memory), then
    ``finish()`` removes stale generated files and writes the manifest."""

    def __init__(self, root: Path, force: bool = False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.force = force
        self.previous = read_manifest(self.root)
        self.result = SyncResult()
        self.recorded: dict[str, str] = {}
        # size and modification time of files as this tool last wrote them (from the
        # convert cache): a file that still has them is not read to learn its digest
        self.trusted: dict[str, tuple[int, int]] = {}
        self.kept_foreign: set[str] = (
            set()
        )  # refused: on disk is not what we would write

    def put(self, rel: str, text: str) -> None:
        self.put_bytes(rel, encode(text))

    def put_bytes(self, rel: str, data: bytes) -> tuple:
        return self._settle(
            rel, sha256(data), lambda path: write_atomic(path, data), lambda: None
        )

    def put_lines(self, rel: str, lines) -> None:
        """Like put(), for a large file given as an iterable of lines."""
        self.put_chunks(rel, (encode(line + "\n") for line in lines))

    def put_chunks(self, rel: str, chunks) -> None:
        """Like put(), for a large file given as an iterable of byte strings: streamed to
        a temporary file while hashing, so it is never one string in memory."""
        path = safe_path(self.root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        digest = hashlib.sha256()
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                for data in chunks:
                    digest.update(data)
                    handle.write(data)
            self._settle(
                rel,
                digest.hexdigest(),
                lambda path: os.replace(tmp, path),
                lambda: os.unlink(tmp),
            )
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def intact(
        self, rel: str, digest: str, stat: tuple[int, int] | None = None
    ) -> bool:
        """Is ``rel`` on disk still the file this tool wrote with ``digest``, judged by the
        size and modification time recorded when it was written (no read, no hash)?
        ``stat`` defaults to the one in ``trusted``."""
        if stat is None:
            stat = self.trusted.get(rel)
        if stat is None or self.previous.get(rel) != digest:
            return False
        try:  # a stat, so no need to check the path first
            st = os.stat(os.path.join(self.root, rel))
        except (OSError, ValueError):
            return False
        return (st.st_size, st.st_mtime_ns) == tuple(stat)

    def keep(self, rel: str, digest: str) -> None:
        """Record an ``intact`` file as this run's output, unchanged."""
        if rel in self.recorded:
            raise ValueError(f"output {rel!r} produced twice")
        self.result.unchanged.append(rel)
        self.recorded[rel] = digest

    def stats(self) -> dict[str, tuple[int, int]]:
        """Size and modification time of every file recorded, as they are now (not of
        files left alone because someone edited them)."""
        out = {}
        for rel in self.recorded:
            if rel in self.kept_foreign:
                continue
            try:
                st = os.stat(self.root / rel)
            except OSError:
                continue
            out[rel] = (st.st_size, st.st_mtime_ns)
        return out

    def _settle(self, rel: str, digest: str, write, discard) -> tuple:
        """Write the new content unless it is unchanged, or the file on disk is not the one
        this tool wrote last time (edited, or foreign): then refuse, unless forced.
        Returns what happened, for ``note`` (a worker process settles its files itself).
        """
        path = safe_path(self.root, rel)
        if rel in self.recorded:
            raise ValueError(f"output {rel!r} produced twice")
        outcome: tuple = ("written", digest, None)
        if path.exists():
            if rel in self.previous and self.intact(rel, self.previous[rel]):
                current = self.previous[rel]  # as we wrote it: no need to read it
            else:
                current = sha256(path.read_bytes())
            if current == digest:
                outcome = ("unchanged", digest, None)
            elif not self.force and self.previous.get(rel) != current:
                why = (
                    "was edited since it was generated"
                    if rel in self.previous
                    else "was not written by sundial-migrate"
                )
                problem = Problem(
                    str(path),
                    None,
                    None,
                    f"not overwritten: the file {why}",
                    "move your changes into mapping rules, or re-run with --force",
                )
                outcome = ("refused", self.previous.get(rel), problem)
        if outcome[0] == "written":
            write(path)
        else:
            discard()
        self.note(rel, outcome)
        return outcome

    def note(self, rel: str, outcome: tuple) -> None:
        """Record what happened to ``rel`` (here, or in a worker process)."""
        status, digest, problem = outcome
        if status == "refused":
            self.result.refused.append(problem)
            self.kept_foreign.add(rel)
            if digest is not None:
                self.recorded[rel] = digest
            return
        getattr(self.result, status).append(rel)
        self.recorded[rel] = digest

    def finish(self) -> SyncResult:
        for rel in sorted(set(self.previous) - set(self.recorded)):
            try:
                path = safe_path(self.root, rel)
            except ValueError:
                continue
            if not path.exists():
                continue
            if not self.force and sha256(path.read_bytes()) != self.previous[rel]:
                self.result.refused.append(
                    Problem(
                        str(path),
                        None,
                        None,
                        "not removed although its process is gone: the file was edited since it was generated",
                        "delete it yourself, or re-run with --force",
                    )
                )
                self.recorded[rel] = self.previous[rel]
                self.kept_foreign.add(rel)
                continue
            path.unlink()
            self.result.removed.append(rel)
        self.result.written.sort()
        self.result.unchanged.sort()
        manifest = {
            "tool": "sundial-migrate",
            "files": dict(sorted(self.recorded.items())),
        }
        write_atomic(
            self.root / MANIFEST, encode(json.dumps(manifest, indent=2) + "\n")
        )
        return self.result


def sync(root: Path, outputs: dict[str, str], force: bool = False) -> SyncResult:
    """Write a whole set of outputs (see OutputWriter)."""
    writer = OutputWriter(root, force)
    for rel in sorted(outputs):
        writer.put(rel, outputs[rel])
    return writer.finish()
