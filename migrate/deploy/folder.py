"""The folder target: a local or shared directory Airflow reads (a ``LocalDagBundle``, the
dags folder of a git-sync checkout, an EFS mount...).

Files are written atomically (a hidden temporary file renamed into place), so the DAG
processor sees the old file or the new one, never half of one.  The manifest
``PATH/.sundial-migrate-deploy.json`` records the sha256 of every file the tool wrote;
a file that is not recorded, or whose content is no longer the recorded one, is not
ours.  Python's ``__pycache__`` folders (Airflow writes them beside the DAG files it
imports) are left alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path

from migrate.deploy.mirror import (
    LOCK,
    MANIFEST,
    DeployError,
    Remote,
    Scan,
    describe_owner,
    ignored,
    lock_owner,
    manifest_document,
    parse_manifest,
)
from migrate.output import write_atomic


def _sha256_of(path: Path) -> str:
    """The file's sha256, read in pieces, without following a symlink swapped in."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


class FolderTarget:
    def __init__(self, path: Path):
        self.root = Path(path).absolute()
        self.description = str(self.root)

    def where(self, rel: str) -> str:
        return str(self.root / rel)

    def _path(self, rel: str) -> Path:
        path = self.root / rel
        if ".." in Path(rel).parts or not os.path.realpath(path).startswith(
            os.path.realpath(self.root) + os.sep
        ):
            raise DeployError(f"{path}: leaves {self.root}; not written")
        return path

    def prepare(self, create: bool) -> None:
        """The folder must exist, or be creatable in an existing parent."""
        if self.root.is_dir():
            return
        if self.root.exists():
            raise DeployError(f"{self.root}: not a directory")
        if not self.root.parent.is_dir():
            raise DeployError(
                f"{self.root}: no such directory, nor its parent {self.root.parent} "
                "(check --to)"
            )
        if create:
            try:
                self.root.mkdir()
            except OSError as exc:
                raise DeployError(f"{self.root}: cannot create it ({exc.strerror})")

    def scan(self) -> Scan:
        manifest: dict[str, dict] = {}
        remote: dict[str, Remote] = {}
        if not self.root.is_dir():
            return Scan(remote, manifest)  # --dry-run into a folder not made yet
        try:
            manifest = parse_manifest((self.root / MANIFEST).read_bytes())
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise DeployError(
                f"{self.root / MANIFEST}: cannot read it ({exc.strerror})"
            )
        for dirpath, dirnames, filenames in os.walk(
            self.root, onerror=self._walk_error
        ):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = Path(dirpath) / name
                rel = path.relative_to(self.root).as_posix()
                if ignored(rel):
                    continue
                try:
                    info = path.lstat()
                except OSError as exc:
                    raise DeployError(f"{path}: cannot read it ({exc.strerror})")
                if not stat.S_ISREG(info.st_mode):
                    # a symlink (dangling, or to /dev/zero), a FIFO, a socket: never
                    # opened, never ours; kept unless --force
                    remote[rel] = Remote(rel, False, None)
                    continue
                try:
                    sha = _sha256_of(path)
                except OSError as exc:
                    raise DeployError(f"{path}: cannot read it ({exc.strerror})")
                recorded = manifest.get(rel, {}).get("sha256")
                remote[rel] = Remote(rel, recorded == sha, sha)
        return Scan(remote, manifest)

    @staticmethod
    def _walk_error(exc: OSError) -> None:
        raise DeployError(f"{exc.filename}: cannot read it ({exc.strerror})")

    def put(self, rel: str, data: bytes, sha256: str) -> str | None:
        path = self._path(rel)
        try:
            write_atomic(path, data, prefix=".sundial-migrate-tmp-")
        except OSError as exc:
            raise DeployError(f"{path}: cannot write it ({exc.strerror})") from None
        return None

    def delete(self, rel: str) -> None:
        path = self._path(rel)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise DeployError(f"{path}: cannot delete it ({exc.strerror})") from None
        parent = path.parent  # folders left empty by the deletion go too
        while parent != self.root:
            try:
                entries = [e for e in parent.iterdir() if e.name != "__pycache__"]
                if entries:
                    break
                for cache in parent.glob("__pycache__"):
                    for f in cache.iterdir():
                        f.unlink()
                    cache.rmdir()
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def save_manifest(self, files: dict[str, dict]) -> None:
        self.put(MANIFEST, manifest_document(files), "")

    @contextmanager
    def lock(self):
        """An exclusive flock on PATH/.sundial-migrate-deploy.lock for the whole deploy:
        a second deploy to this folder stops at once with one line.  The kernel drops the
        lock when its process ends, however it ends, so a killed deploy never leaves it
        held.  (The file stays: removing it would let two deploys lock different files.)
        """
        path = self.root / LOCK
        try:
            fd = os.open(
                path,
                os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK,
                0o644,
            )
        except OSError as exc:
            raise DeployError(f"{path}: cannot open the deploy lock ({exc.strerror})")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DeployError(f"{path}: not a regular file; cannot lock the target")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
                except ValueError:
                    owner = {}
                raise DeployError(
                    f"{self.root}: another migrate deploy is writing to this folder "
                    f"({describe_owner(owner if isinstance(owner, dict) else {})}); "
                    "nothing was changed: re-run when it has finished"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(lock_owner()).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the flock
