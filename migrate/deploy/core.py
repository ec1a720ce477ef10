"""`migrate deploy` as a library call: DIR/dags/ mirrored to S3 or a folder, as a DAG
bundle (``layout="bundle"``) or as an Amazon MWAA environment reads it (``"mwaa"``)."""

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
from migrate.deploy import mwaa
from migrate.deploy.s3 import S3Target, parse_s3_url

LAYOUTS = ("bundle", "mwaa")


@dataclass
class Deployment:
    result: DeployResult
    bundle: dict | None  # the dag_bundle_config_list entry (layout "bundle")
    edited: list[str]  # DAG files that are not what migrate convert wrote
    plugins: bool  # DIR has support code that must be installed in every component
    mwaa: mwaa.MwaaSettings | None = None  # what the environment must point at


def open_target(
    to: str, endpoint_url: str | None = None, client=None, layout: str = "bundle"
):
    if to.startswith("s3://"):
        bucket, prefix = parse_s3_url(to)
        kind = mwaa.MwaaS3Target if layout == "mwaa" else S3Target
        return kind(bucket, prefix, endpoint_url, client=client)
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
    layout: str = "bundle",
) -> Deployment:
    """Plan, check, then (unless ``dry_run``) apply.  ``progress(length)`` returns a
    callable advanced by one per file uploaded or deleted (or None), used as a context
    manager; raises DeployError when the deploy cannot run or stopped half-way."""
    if layout not in LAYOUTS:
        raise DeployError(f"--layout {layout}: choose one of {', '.join(LAYOUTS)}")
    out_dir = Path(out_dir)
    dag_files = files = local_files(out_dir)
    target = open_target(to, endpoint_url, client=client, layout=layout)
    if isinstance(target, FolderTarget):
        _check_not_inside(out_dir, target.root)
        target.prepare(create=not dry_run)
    bundle = None
    if layout == "bundle":
        bundle = (
            local_bundle(str(target.root), bundle_name)
            if isinstance(target, FolderTarget)
            else s3_bundle(target.bucket, target.prefix, bundle_name, aws_conn_id)
        )
    else:
        if not dag_files and not force:
            raise DeployError(
                f"{out_dir / 'dags'}: no DAG files to deploy (re-run with --force to "
                "empty the environment's dags/ of the ones deployed before)"
            )
        files = mwaa.layout_files(out_dir, dag_files, _converted_for(out_dir))
        if isinstance(target, mwaa.MwaaS3Target):
            target.check_versioning()
    plan = make_plan(files, target, target.scan(), force=force)
    if dry_run:
        result = DeployResult(plan, dry_run=True)
    elif plan.conflicts or not plan.changes:
        result = execute(plan, target)  # raises on conflicts; else at most the record
    else:
        # something to change: under the target's lock, from a scan made under it, so
        # two deploys to one target never interleave (a run with nothing to change
        # writes nothing, not even the lock)
        with target.lock():
            plan = make_plan(files, target, target.scan(), force=force)
            if plan.conflicts or not progress or not plan.changes:
                result = execute(plan, target)
            else:
                with progress(plan.changes) as advance:
                    result = execute(plan, target, advance)
    settings = None
    if layout == "mwaa":
        prefix = getattr(target, "prefix", "")
        settings = (
            mwaa.settings(None, prefix) if dry_run else mwaa.settings(target, prefix)
        )
    return Deployment(
        result,
        bundle,
        edited_since_convert(out_dir, dag_files),
        layout == "bundle" and (out_dir / "plugins" / "sundial_compat").is_dir(),
        settings,
    )


def _converted_for(out_dir: Path):
    """The Airflow the DAGs in DIR were converted for (MWAA's constraints file)."""
    from migrate.target import UnknownTarget, target
    from migrate.verify.core import VerifyUsageError, read_target

    report = out_dir / "report" / "parity.json"
    try:
        minor = read_target(report)
    except (OSError, VerifyUsageError) as exc:
        raise DeployError(
            f"{report}: cannot read it ({getattr(exc, 'strerror', None) or 'missing'});"
            " DIR must be the output of migrate convert"
        ) from None
    if minor is None:
        raise DeployError(
            f"{report}: names no Airflow version (converted by an older sundial-migrate?):"
            " convert again with --airflow-version"
        )
    try:
        return target(minor)
    except UnknownTarget as exc:
        raise DeployError(f"{report}: {exc}") from None


def _check_not_inside(out_dir: Path, target: Path) -> None:
    dags = (out_dir / "dags").resolve()
    where = target.resolve()
    if where == dags or dags in where.parents or where in dags.parents:
        raise DeployError(
            f"--to {target}: overlaps DIR/dags ({dags}); deploy to another folder"
        )
