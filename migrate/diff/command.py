"""`migrate diff`: the click command (registered by migrate/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from migrate.stdio import echo, json_printable, printable, stdout_to_stderr

from migrate.diff.core import DEFAULT_HORIZON_DAYS, DiffUsageError, parse_start
from migrate.diff.history import HistoryError

_PROGRESS_FROM = 200  # DAG files; smaller estates load before a bar would help


@click.command("diff")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dags",
    "dags",
    required=True,
    type=click.Path(path_type=Path),
    help="The DAG folder (convert's DIR/dags; DIR/plugins and DIR/report are used when present).",
)
@click.option(
    "--timezone",
    default=None,
    help="The IANA zone Sundial evaluated cron schedules in "
    "[default: the conversion's, from report/parity.json, else UTC].",
)
@click.option(
    "--horizon",
    default=DEFAULT_HORIZON_DAYS,
    show_default=True,
    type=int,
    help="Days of future fire times to compare.",
)
@click.option(
    "--history",
    "history",
    type=click.Path(path_type=Path),
    default=None,
    help="An export directory (migrate export --history-days N): compare Sundial's past runs too.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--start",
    default=None,
    help="Start of the horizon, ISO 8601 [default: now, to the minute].",
)
def diff_command(sources, dags, timezone, horizon, history, as_json, start):
    """Compare Sundial definitions with the Airflow DAGs that replace them.

    Loads the DAGs with Airflow's DagBag, steps each DAG's actual timetable over the
    horizon and compares its run times with Quartz's fire times for the Sundial
    definition; also reports missing DAGs, DAGs without a Sundial process, paused
    differences, unregistered timetables and (with --history) Sundial's past runs.

    Exit codes: 0 parity; 1 differences; 2 bad input.
    """
    from migrate.diff.core import run_diff
    from migrate.diff.dags import dag_files
    from migrate.diff.render import to_json, to_table

    try:
        start_at = parse_start(start) if start else None
        if history is not None and not Path(history).is_dir():
            raise DiffUsageError(f"--history {history}: not a directory")
        total = len(dag_files(dags)) if Path(dags).is_dir() else 0
        bar = None
        if total >= _PROGRESS_FROM:
            bar = click.progressbar(length=total, label="Loading DAGs", file=sys.stderr)
        try:
            with stdout_to_stderr():  # Airflow logs to stdout; --json must stay clean
                result = run_diff(
                    list(sources),
                    dags,
                    timezone,
                    horizon,
                    start_at,
                    history,
                    progress=bar.update if bar else None,
                )
        finally:
            if bar:
                bar.render_finish()
    except (DiffUsageError, HistoryError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(
        json_printable(to_json(result)) if as_json else printable(to_table(result)),
        nl=False,
    )
    sys.exit(result.exit_code())
