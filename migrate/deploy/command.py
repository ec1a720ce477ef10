"""`migrate deploy`: the click command (registered by migrate/cli.py)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from migrate.stdio import echo, json_printable

from migrate.deploy.bundle import DEFAULT_AWS_CONN_ID, DEFAULT_NAME, config_json
from migrate.deploy.core import LAYOUTS
from migrate.deploy.mirror import DeployError

_SHOWN = 20  # foreign files listed by name; the rest are counted


@click.command("deploy")
@click.argument("out_dir", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "to",
    required=True,
    metavar="s3://BUCKET/PREFIX | PATH",
    help="Where Airflow reads the DAGs: an S3 bucket and prefix (an S3DagBundle), or a "
    "local or shared folder.",
)
@click.option(
    "--endpoint-url",
    default=None,
    help="S3-compatible endpoint (MinIO, a test server...) [default: AWS].",
)
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Also overwrite and delete files at the target that sundial-migrate did not "
    "write (or that changed since it wrote them).",
)
@click.option(
    "--bundle-name",
    default=DEFAULT_NAME,
    show_default=True,
    help="Bundle name in the printed dag_bundle_config_list entry.",
)
@click.option(
    "--aws-conn-id",
    default=DEFAULT_AWS_CONN_ID,
    show_default=True,
    help="Airflow connection the S3 bundle reads with (printed entry only).",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="bundle",
    show_default=True,
    help="bundle: DIR/dags/ as a DAG bundle.  mwaa: an Amazon MWAA environment's bucket "
    "(dags/, plugins.zip, requirements.txt with the constraints line).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def deploy_command(
    out_dir, to, endpoint_url, dry_run, force, bundle_name, aws_conn_id, layout, quiet
):
    """Mirror DIR/dags/ (the output of migrate convert) to where Airflow reads DAGs.

    \b
      migrate deploy out/ --to s3://my-airflow-dags/sundial
      migrate deploy out/ --to /mnt/efs/airflow/dags/sundial
      migrate deploy out/ --to s3://my-mwaa-bucket --layout mwaa

    Uploads only files whose content changed (sha256), deletes files it wrote earlier
    that are gone from DIR/dags, and never overwrites or deletes a file it did not write
    unless --force: a re-run of an unchanged DIR changes nothing.  DAG files go first,
    deletions last, the ownership record (.sundial-migrate-deploy.json at the target)
    at the end.  AWS credentials and region come the usual boto3 way (environment,
    AWS_PROFILE, instance or task role).

    Prints the dag_bundle_config_list entry (JSON) for Airflow's configuration.  The
    support code is not in the bundle: install DIR/requirements.txt into every Airflow
    component (see DIR/Dockerfile).

    With --layout mwaa, --to is the MWAA environment's bucket (and prefix, if its paths
    have one): DIR/dags/ goes to dags/, the support package to plugins.zip, and a
    requirements.txt naming Airflow's constraints file for the Airflow the DAGs were
    converted for; another plugins.zip or requirements.txt already there is not replaced
    (merge ours into it).  The bucket must keep versions; prints the environment's
    paths and object versions (JSON) and the `aws mwaa update-environment` command.

    Exit codes: 0 deployed (or, with --dry-run, planned); 2 the deploy could not run
    (no such bucket, access denied, a file at the target that is not ours...).
    """
    from migrate.deploy.core import deploy

    @contextlib.contextmanager
    def progress(length):
        with click.progressbar(
            length=length, label="Deploying", file=sys.stderr
        ) as bar:
            yield bar.update

    try:
        done = deploy(
            out_dir,
            to,
            endpoint_url=endpoint_url,
            dry_run=dry_run,
            force=force,
            bundle_name=bundle_name,
            aws_conn_id=aws_conn_id,
            progress=None if quiet else progress,
            layout=layout,
        )
    except DeployError as exc:
        for line in str(exc).splitlines():
            echo(f"error: {line}", err=True)
        sys.exit(2)
    result, plan = done.result, done.result.plan
    if dry_run:
        for a in plan.uploads:
            echo(f"would upload {a.rel} ({a.reason})")
        for a in plan.deletes:
            echo(f"would delete {a.rel} ({a.reason})")
        for rel in plan.adopted:
            echo(f"would record {rel} as ours (identical content already there)")
        if plan.conflicts:
            for line in plan.conflicts:
                echo(f"error: {line}", err=True)
            sys.exit(2)
    if not quiet:
        for rel in done.edited:
            echo(
                f"note: {rel} was edited since migrate convert wrote it; deployed as it is",
                err=True,
            )
        for rel in plan.kept_foreign[:_SHOWN]:
            echo(
                f"note: kept {rel} at {plan.target}: not written by sundial-migrate "
                "(Airflow reads it too; --force deletes it)",
                err=True,
            )
        if len(plan.kept_foreign) > _SHOWN:
            echo(
                f"note: kept {len(plan.kept_foreign) - _SHOWN} more files not written "
                "by sundial-migrate",
                err=True,
            )
        verb = "would be" if dry_run else "were"
        action = "uploaded" if plan.target.startswith("s3://") else "written"
        uploaded = len(plan.uploads) if dry_run else len(result.uploaded)
        deleted = len(plan.deletes) if dry_run else len(result.deleted)
        echo(
            f"{plan.target}: {uploaded} files {verb} {action}, {deleted} deleted, "
            f"{len(plan.unchanged) + len(plan.adopted)} unchanged"
            + (
                f", {len(plan.kept_foreign)} not ours kept" if plan.kept_foreign else ""
            ),
            err=True,
        )
        if done.plugins:
            echo(
                "note: a bundle carries DAG files only: install the support package in "
                f"every Airflow component (in {out_dir}: pip install -r requirements.txt; "
                "or build the image in its Dockerfile)",
                err=True,
            )
        if done.mwaa is not None and not dry_run:
            echo(_mwaa_next_step(done, plan.target), err=True)
        elif done.bundle is not None:
            echo(
                "Airflow: put this in [dag_processor] dag_bundle_config_list "
                "(env AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST), next to any other bundles:",
                err=True,
            )
    if done.mwaa is not None:
        click.echo(json_printable(json.dumps(done.mwaa.as_dict())))
    else:
        click.echo(json_printable(config_json(done.bundle)))


def _mwaa_next_step(done, where: str) -> str:
    from migrate.deploy.mwaa import PLUGINS_ZIP, REQUIREMENTS

    if not where.startswith("s3://"):
        return (
            f"MWAA: the layout is in {where} (an environment reads it from its S3 "
            "bucket: deploy there with --to s3://BUCKET --layout mwaa)"
        )
    if {PLUGINS_ZIP, REQUIREMENTS} & set(done.result.uploaded):
        return (
            "MWAA: installs the new plugins.zip and requirements.txt only when the "
            f"environment is updated to them: {done.mwaa.command()}"
        )
    return (
        "MWAA: plugins.zip and requirements.txt unchanged, no environment update "
        "needed (MWAA picks up DAG files by itself)"
    )
