"""The `migrate` command line: thin click commands over the library functions."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from migrate.stdio import echo


class _LazyGroup(click.Group):
    """Subcommands imported when used: `migrate convert` does not pay for the HTTP,
    PostgreSQL and Airflow-loading code of `export` and `diff`."""

    lazy = {
        "export": "migrate.extract.command:export_command",
        "diff": "migrate.diff.command:diff_command",
        "deploy": "migrate.deploy.command:deploy_command",
        "verify": "migrate.verify.command:verify_command",
        "cutover": "migrate.cutover.command:cutover_command",
        "rollback": "migrate.cutover.command:rollback_command",
    }

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sundial-migrate")
def main() -> None:
    """Move a Sundial estate onto Apache Airflow 3.

    \b
    Typical flow:
      migrate export --url https://sundial.example.com --out estate/
      migrate convert estate/ --out airflow/ --timezone America/New_York
      migrate diff estate/ --dags airflow/dags
      migrate deploy airflow/ --to s3://my-dags-bucket/sundial
      migrate verify estate/ --report airflow/ --airflow-url https://airflow.example.com
      migrate cutover estate/ --report airflow/ --process 'orders-*' \\
          --sundial-url https://sundial.example.com --airflow-url https://airflow.example.com
      migrate verify estate/ --report airflow/ --airflow-url ... --runs
      migrate rollback --journal airflow/cutover-journal.jsonl --sundial-url ... --airflow-url ...

    Exit codes: 0 all good; 1 problems found (invalid definitions skipped, or with
    --strict any difference from Sundial); 2 the command could not run.
    """
    from migrate.stdio import quiet_dependency_warnings

    quiet_dependency_warnings()


@main.command("convert")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory: dags/, plugins/, aws/ and report/ are written here.",
)
@click.option(
    "--mappings",
    "mappings",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping rules YAML layered over mappings/default.yaml (repeatable; later files win).",
)
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="The IANA zone Sundial's JVM evaluated cron schedules in.",
)
@click.option(
    "--airflow-version",
    type=click.Choice(["3.0", "3.1", "3.2", "3.3"]),
    default=None,
    help="The Airflow the DAGs, plugins, requirements.txt and Dockerfile are for "
    "[default: the mapping setting airflow_version, 3.3].",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any finding is not exact.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite or remove generated files even if someone edited them.",
)
@click.option(
    "--inline-secrets",
    is_flag=True,
    help="Write secret-looking env values into the DAG files instead of reading them "
    "from Airflow Variables. Avoid: anyone who can read the DAGs can read them.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: one per core when there are many definitions].",
)
@click.option(
    "--no-cache",
    "cache",
    flag_value=False,
    default=True,
    help="Convert every definition, not only the changed ones.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def convert_command(
    sources,
    out,
    mappings,
    timezone,
    airflow_version,
    strict,
    force,
    inline_secrets,
    jobs,
    cache,
    quiet,
):
    """Convert Sundial process definitions into Airflow 3 DAG files.

    SOURCES are JSON/YAML files (one definition or a list), directories of them, or a
    directory written by `migrate export`.  Writes DIR/dags/<dag_id>.py, DIR/plugins/
    (support code, only when needed), DIR/aws/ (job and task definition specs) and
    DIR/report/: parity.{json,md}, the fate of every Sundial field, and index.html with
    a page per process (both graphs side by side; the graphs need Graphviz's dot).

    Invalid definitions are reported one per line and skipped; the rest are converted.

    A re-run converts only what changed (DIR/.sundial-migrate-cache remembers the
    rest; --no-cache converts everything), on every core (--jobs).
    """
    from migrate.mapping.rules import MappingError
    from migrate.pipeline import UsageError, convert
    from migrate.sundial.load import SourceError
    from migrate.workers import WorkerError

    try:
        result = convert(
            list(sources),
            out,
            list(mappings),
            timezone,
            progress=None if quiet else _progress,
            force=force,
            inline_secrets=inline_secrets,
            jobs=jobs,
            cache=cache,
            airflow_version=airflow_version,
        )
    except (UsageError, MappingError, SourceError, WorkerError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    if inline_secrets:
        echo(
            "WARNING: --inline-secrets: secret-looking env values were written into the DAG "
            "files; see report/parity.md (severity manual) for each one",
            err=True,
        )
    refused = set(map(id, result.sync.refused)) if result.sync else set()
    for problem in result.problems:
        label = "refused" if id(problem) in refused else "invalid"
        echo(f"{label}: {problem}", err=True)
    if not quiet:
        s = result.report["summary"]
        unchanged = s["processes_converted"] - result.built
        echo(
            f"{s['processes_converted']} DAGs in {out / 'dags'}"
            + (f" ({unchanged} unchanged, not converted again)" if unchanged else "")
            + f", {s['definitions_invalid']} invalid definitions skipped; "
            + ", ".join(f"{k} {v}" for k, v in s["findings"].items())
            + f". Report: {out / 'report' / 'index.html'} (and parity.md, parity.json)",
            err=True,
        )
    if not result.pictures:
        from migrate.html.layout import INSTALL_HINT

        echo(
            f"note: the process pages have no graphs (Graphviz's dot was not found): "
            f"{INSTALL_HINT}",
            err=True,
        )
    sys.exit(result.exit_code(strict))


def _progress(items, length=None):
    """Iterate with a progress bar on stderr (long estates take a while)."""
    with click.progressbar(
        items, length=length, label="Generating DAGs", file=sys.stderr
    ) as bar:
        yield from bar


if __name__ == "__main__":
    main()
