"""The mirror: DIR/dags/ against what is at the target, compared by content hash.

Ownership: every file the tool writes is recorded in a manifest at the target
(``.sundial-migrate-deploy.json``, beside the DAG files: Airflow parses only Python
files) with its sha256 and the target's own version token (an S3 ETag); only what the
record lists, unchanged, is ours.  An upload whose manifest was never written (an
interrupted run) has the bytes the re-run would write, so the re-run adopts it.  A file at the target that is not recorded, or
that changed since the tool wrote it, is foreign: it is never overwritten or deleted
without ``force``.  A foreign file with exactly the content the tool would write (copied
there by hand before) is adopted: recorded as ours, not rewritten.

Order: the plan is made and checked first (a conflict stops the run before anything
changes), then the DAG files are uploaded, then stale files deleted, then the manifest
written, only if it changed.  A re-run of an unchanged DIR reads and writes nothing at
the target besides one listing and the manifest read.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from contextlib import AbstractContextManager
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from migrate.output import MANIFEST as CONVERT_MANIFEST

MANIFEST = ".sundial-migrate-deploy.json"
# held while a deploy writes (a folder: flock on this file; S3: an object created only if
# absent), so two deploys to one target never interleave
LOCK = ".sundial-migrate-deploy.lock"
# a lock older than this, or held by a process of this host that is gone, is stale
LOCK_TTL_SECONDS = 3600
UPLOAD_THREADS = 8

# never deployed from DIR/dags, never looked at in a folder target: Python's bytecode
# caches (Airflow writes them next to the DAG files it imports) and temporary files
IGNORED_DIRS = frozenset({"__pycache__"})
IGNORED_SUFFIXES = (".pyc",)
TEMP_PREFIXES = (".tmp-", ".sundial-migrate-tmp-")


class DeployError(Exception):
    """The deploy cannot run (exit code 2).  ``str()`` is one line, or one per problem."""


def ignored(rel: str) -> bool:
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(p in IGNORED_DIRS for p in parts[:-1])
        or name.endswith(IGNORED_SUFFIXES)
        or name.startswith(TEMP_PREFIXES)
        or rel in (MANIFEST, LOCK)
    )


@dataclass(frozen=True)
class LocalFile:
    rel: str  # path under DIR/dags, with "/"
    path: Path
    sha256: str
    md5: str
    size: int
    content: bytes | None = None  # made at deploy time (MWAA's plugins.zip), not read

    def read(self) -> bytes:
        return self.content if self.content is not None else self.path.read_bytes()


def local_files(out_dir: Path) -> list[LocalFile]:
    """Every file of DIR/dags/ (recursively; bytecode caches and temporary files left
    out), in path order."""
    dags = Path(out_dir) / "dags"
    if not dags.is_dir():
        raise DeployError(
            f"{dags}: not a directory (DIR must be the output of migrate convert)"
        )
    files = []
    for path in sorted(dags.rglob("*")):
        rel = path.relative_to(dags).as_posix()
        if path.is_symlink():
            raise DeployError(
                f"{path}: a symbolic link; not deployed (it would publish whatever it "
                "points to): replace it with the file itself"
            )
        if not path.is_file():
            if not path.is_dir():
                raise DeployError(f"{path}: not a regular file; not deployed")
            continue
        if ignored(rel):
            continue
        data = path.read_bytes()
        files.append(
            LocalFile(
                rel,
                path,
                hashlib.sha256(data).hexdigest(),
                hashlib.md5(data, usedforsecurity=False).hexdigest(),
                len(data),
            )
        )
    return files


def edited_since_convert(out_dir: Path, files: list[LocalFile]) -> list[str]:
    """DAG files whose content is not what migrate convert wrote (they are deployed as
    they are; the user may want to know)."""
    try:
        recorded = json.loads((Path(out_dir) / CONVERT_MANIFEST).read_text("utf-8"))
        recorded = recorded.get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [
        f"dags/{f.rel}"
        for f in files
        if f"dags/{f.rel}" in recorded and recorded[f"dags/{f.rel}"] != f.sha256
    ]


@dataclass
class Remote:
    """A file at the target."""

    rel: str
    owned: bool
    sha256: str | None = None  # content digest, when known (recorded, or hashed)
    md5: str | None = None  # content MD5, when the target tells it (a plain S3 ETag)
    token: str | None = None  # the target's version token (S3 ETag), for the manifest


@dataclass
class Scan:
    remote: dict[str, Remote]
    manifest: dict[str, dict]  # as read from the target


class Target(Protocol):
    description: str  # s3://bucket/prefix or the folder

    def where(self, rel: str) -> str: ...

    def scan(self) -> Scan: ...

    def put(self, rel: str, data: bytes, sha256: str) -> str | None: ...

    def delete(self, rel: str) -> None: ...

    def save_manifest(self, files: dict[str, dict]) -> None: ...

    def lock(self) -> AbstractContextManager: ...


def lock_owner() -> dict:
    """Who holds a lock, as the lock records it (for the line another deploy prints)."""
    return {
        "tool": "sundial-migrate",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": int(time.time()),
    }


def describe_owner(owner: dict) -> str:
    when = owner.get("since")
    since = (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
        if isinstance(when, int)
        else "an unknown time"
    )
    return (
        f"host {owner.get('host', '?')!s:.64}, pid {owner.get('pid', '?')!s:.16}, "
        f"since {since}"
    )


def stale(owner: dict, now: float | None = None) -> bool:
    """A lock whose deploy cannot still be running: older than LOCK_TTL_SECONDS, or taken
    on this host by a process that is gone (a deploy killed by the user or the OOM
    killer); a lock that cannot be read is stale once it is older than the TTL."""
    now = time.time() if now is None else now
    since = owner.get("since")
    if not isinstance(since, (int, float)) or now - since > LOCK_TTL_SECONDS:
        return True
    pid = owner.get("pid")
    if owner.get("host") == socket.gethostname() and isinstance(pid, int) and pid > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # alive, another user's
    return False


@dataclass(frozen=True)
class Action:
    kind: str  # "upload" or "delete"
    rel: str
    reason: str
    local: LocalFile | None = None


@dataclass
class Plan:
    target: str
    uploads: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    kept_foreign: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    manifest_before: dict[str, dict] = field(default_factory=dict)
    manifest_after: dict[str, dict] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return len(self.uploads) + len(self.deletes)


@dataclass
class DeployResult:
    plan: Plan
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    manifest_written: bool = False
    dry_run: bool = False


NOT_OURS = "not written by sundial-migrate, or changed since it wrote it"


def make_plan(
    files: list[LocalFile], target: Target, scan: Scan, force: bool = False
) -> Plan:
    plan = Plan(target.description, manifest_before=scan.manifest)
    after: dict[str, dict] = {}
    local = {f.rel: f for f in files}
    for f in files:
        r = scan.remote.get(f.rel)
        if r is None:
            plan.uploads.append(Action("upload", f.rel, "new", f))
        elif r.owned:
            if r.sha256 == f.sha256:
                plan.unchanged.append(f.rel)
                after[f.rel] = _entry(f.sha256, r.token)
            else:
                plan.uploads.append(Action("upload", f.rel, "changed", f))
        elif r.sha256 == f.sha256 or (r.sha256 is None and r.md5 == f.md5):
            plan.adopted.append(f.rel)  # the same bytes are there already
            after[f.rel] = _entry(f.sha256, r.token)
        elif force:
            plan.uploads.append(
                Action("upload", f.rel, f"replaces a file {NOT_OURS} (--force)", f)
            )
        else:
            plan.conflicts.append(
                f"{target.where(f.rel)}: exists and was {NOT_OURS}; not overwritten "
                "(move it away, or re-run with --force to replace it)"
            )
    for rel in sorted(set(scan.remote) - set(local)):
        r = scan.remote[rel]
        if r.owned:
            plan.deletes.append(Action("delete", rel, "gone from DIR/dags"))
        elif force:
            plan.deletes.append(Action("delete", rel, f"{NOT_OURS} (--force)"))
        else:
            plan.kept_foreign.append(rel)
    if not files and plan.deletes and not force:
        plan.conflicts.append(
            f"DIR/dags has no DAG files: refusing to delete all {len(plan.deletes)} "
            f"at {target.description} (re-run with --force to empty it)"
        )
    for a in plan.uploads:
        after[a.rel] = _entry(a.local.sha256, None)  # token known after the upload
    plan.manifest_after = after
    return plan


def _entry(sha256: str, token: str | None) -> dict:
    entry = {"sha256": sha256}
    if token is not None:
        entry["token"] = token
    return entry


def execute(
    plan: Plan,
    target: Target,
    progress: Callable[[int], None] | None = None,
    threads: int = UPLOAD_THREADS,
) -> DeployResult:
    """Uploads, then deletions, then the manifest.  A failure stops the run with a
    DeployError saying what was done; the manifest then records what was uploaded."""
    if plan.conflicts:
        raise DeployError("\n".join(plan.conflicts))
    result = DeployResult(plan)
    after = {k: dict(v) for k, v in plan.manifest_after.items()}
    done = progress or (lambda n: None)

    def upload(action: Action):
        token = target.put(action.rel, action.local.read(), action.local.sha256)
        return action, token

    failure: DeployError | None = None
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="deploy") as pool:
        futures = [pool.submit(upload, a) for a in plan.uploads]
        for future in as_completed(futures):
            try:
                action, token = future.result()
            except DeployError as exc:
                failure = failure or exc
                continue
            result.uploaded.append(action.rel)
            if token is not None:
                after[action.rel]["token"] = token
            done(1)
    result.uploaded.sort()
    if failure is not None:
        failed = {a.rel for a in plan.uploads} - set(result.uploaded)
        for rel in failed:  # not there (or not ours): keep what was recorded before
            if rel in plan.manifest_before:
                after[rel] = plan.manifest_before[rel]
            else:
                after.pop(rel, None)
        for a in plan.deletes:  # not deleted: still ours
            if a.rel in plan.manifest_before:
                after[a.rel] = plan.manifest_before[a.rel]
        _save_quietly(target, after, plan.manifest_before)
        raise DeployError(
            f"{failure} ({len(result.uploaded)} of {len(plan.uploads)} uploads done, "
            "nothing deleted; re-run when fixed)"
        )
    for action in plan.deletes:
        try:
            target.delete(action.rel)
        except DeployError as exc:
            for a in plan.deletes:
                if a.rel not in result.deleted and a.rel in plan.manifest_before:
                    after[a.rel] = plan.manifest_before[a.rel]
            _save_quietly(target, after, plan.manifest_before)
            raise DeployError(
                f"{exc} (all {len(plan.uploads)} uploads done, {len(result.deleted)} of "
                f"{len(plan.deletes)} deletions; re-run when fixed)"
            ) from None
        result.deleted.append(action.rel)
        done(1)
    if after != plan.manifest_before:
        target.save_manifest(dict(sorted(after.items())))
        result.manifest_written = True
    return result


def _save_quietly(target: Target, files: dict, before: dict) -> None:
    if files == before:
        return
    try:
        target.save_manifest(dict(sorted(files.items())))
    except DeployError:
        pass  # the error being reported matters more; ownership metadata remains


def manifest_document(files: dict[str, dict]) -> bytes:
    doc = {
        "tool": "sundial-migrate",
        "what": "files written by `migrate deploy` (ownership record; do not edit)",
        "files": files,
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def parse_manifest(data: bytes) -> dict[str, dict]:
    try:
        files = json.loads(data.decode("utf-8")).get("files", {})
    except (ValueError, AttributeError, UnicodeDecodeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {
        k: v
        for k, v in files.items()
        if isinstance(k, str)
        and isinstance(v, dict)
        and isinstance(v.get("sha256"), str)
    }
