"""`migrate deploy` as a library call: DIR/dags/ mirrored to S3 or a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrate.deploy.bundle import (
    DEFAULT_AWS_CONN_ID,
    DEFAULT_NAME,
    local_bundle,
    s3_bundle,
)
from migrate.deploy.folder import FolderTarget
from migrate.deploy.mirror import (
    DeployError,
    DeployResult,
    execute,
    edited_since_convert,
    local_files,
    make_plan,
)
from migrate.deploy.s3 import S3Target, parse_s3_url


@dataclass
class Deployment:
    result: DeployResult
    bundle: dict  # the dag_bundle_config_list entry
    edited: list[str]  # DAG files that are not what migrate convert wrote
    plugins: bool  # DIR has support code that must be installed in every component


def open_target(to: str, endpoint_url: str | None = None, client=None):
    if to.startswith("s3://"):
        bucket, prefix = parse_s3_url(to)
        return S3Target(bucket, prefix, endpoint_url, client=client)
    if "://" in to:
        raise DeployError(f"--to {to}: only s3://BUCKET/PREFIX or a folder path")
    if endpoint_url:
        raise DeployError("--endpoint-url is for s3:// targets only")
    return FolderTarget(Path(to))


def deploy(
    out_dir: Path,
    to: str,
    *,
    endpoint_url: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    bundle_name: str = DEFAULT_NAME,
    aws_conn_id: str = DEFAULT_AWS_CONN_ID,
    progress=None,
    client=None,
) -> Deployment:
    """Plan, check, then (unless ``dry_run``) apply.  ``progress(length)`` returns a
    callable advanced by one per file uploaded or deleted (or None), used as a context
    manager; raises DeployError when the deploy cannot run or stopped half-way."""
    out_dir = Path(out_dir)
    files = local_files(out_dir)
    target = open_target(to, endpoint_url, client=client)
    if isinstance(target, FolderTarget):
        _check_not_inside(out_dir, target.root)
        target.prepare(create=not dry_run)
        bundle = local_bundle(str(target.root), bundle_name)
    else:
        bundle = s3_bundle(target.bucket, target.prefix, bundle_name, aws_conn_id)
    plan = make_plan(files, target, target.scan(), force=force)
    if dry_run:
        result = DeployResult(plan, dry_run=True)
    elif plan.conflicts or not progress or not plan.changes:
        result = execute(plan, target)
    else:
        with progress(plan.changes) as advance:
            result = execute(plan, target, advance)
    return Deployment(
        result,
        bundle,
        edited_since_convert(out_dir, files),
        (out_dir / "plugins" / "sundial_compat").is_dir(),
    )


def _check_not_inside(out_dir: Path, target: Path) -> None:
    dags = (out_dir / "dags").resolve()
    where = target.resolve()
    if where == dags or dags in where.parents or where in dags.parents:
        raise DeployError(
            f"--to {target}: overlaps DIR/dags ({dags}); deploy to another folder"
        )
