"""`migrate cutover` and `migrate rollback`: thin click commands over migrate.cutover.core."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from migrate.stdio import echo, json_printable


def _connections(f):
    """The options both commands take to reach Sundial and Airflow."""
    options = [
        click.option("--sundial-url", required=True, help="Sundial's base URL."),
        click.option(
            "--sundial-token-env",
            metavar="VAR",
            help="Environment variable holding a bearer token for Sundial's API.",
        ),
        click.option(
            "--airflow-url", required=True, help="The Airflow 3 api-server's base URL."
        ),
        click.option("--username", default=None, help="Airflow user to log in as."),
        click.option(
            "--password-env",
            metavar="VAR",
            help="Environment variable holding the password.",
        ),
        click.option(
            "--token-env",
            metavar="VAR",
            help="Environment variable holding an Airflow API token.",
        ),
        click.option(
            "--wait-running",
            type=click.FloatRange(min=0),
            default=600.0,
            show_default=True,
            help="Seconds to wait for runs in progress to end.",
        ),
        click.option(
            "--kill-running",
            is_flag=True,
            help="Stop runs in progress instead of waiting for them (Sundial: a kill "
            "request; Airflow: the DAG run marked failed).",
        ),
        click.option(
            "--timeout", default=30.0, show_default=True, help="Seconds per request."
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Check and say what would be done; change nothing.",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Machine-readable output."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.command("cutover")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--report",
    required=True,
    type=click.Path(path_type=Path),
    help="The output directory of migrate convert (its report/parity.json).",
)
@click.option(
    "--process",
    "processes",
    multiple=True,
    required=True,
    metavar="GLOB",
    help="The processes of this wave (repeatable).",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where each step is recorded [default: DIR/cutover-journal.jsonl].",
)
@_connections
def cutover_command(sources, report, processes, journal, **options):
    """Go live in Airflow one process at a time, never running one in both.

    \b
      migrate cutover estate/ --report airflow/ --process 'orders-*' \\
          --sundial-url https://sundial.example.com \\
          --airflow-url https://airflow.example.com --username admin --password-env PW

    For each process of the wave: migrate verify's checks (stop on any difference);
    pause it in Sundial; wait until Sundial runs none of it (--wait-running, or
    --kill-running); unpause its DAG; confirm Airflow's next run is the Quartz next fire,
    and name the fires Sundial's last run and Airflow's first leave out.  Every step is
    written to the journal before and after: run the same command again after an
    interruption and it finishes the job.  migrate rollback undoes it.

    Exit codes: 0 every process cut over (or skipped: paused in Sundial); 1 a process
    could not be cut over and was left as it was; 2 cannot connect, or bad input.
    """
    from migrate.cutover import journal as journals
    from migrate.cutover.core import cutover

    def act(sundial, airflow, waiting, book):
        return cutover(
            list(sources),
            report,
            sundial,
            airflow,
            processes,
            book,
            waiting,
            dry_run=options["dry_run"],
        )

    _run(act, journal or journals.default_path(report), options)


@click.command("rollback")
@click.option(
    "--journal",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The journal of the cutovers to undo.",
)
@click.option(
    "--process",
    "processes",
    multiple=True,
    metavar="GLOB",
    help="Only these processes (repeatable; default every one the journal cut over).",
)
@_connections
def rollback_command(journal, processes, **options):
    """Undo cutovers: pause the DAG, wait for its runs (or mark them failed with
    --kill-running), resume the Sundial process.  Journaled like a cutover.

    Exit codes: 0 rolled back; 1 a process could not be (its DAG is live again); 2
    cannot connect, or bad input.
    """
    from migrate.cutover.core import rollback

    if not Path(journal).exists():
        echo(f"error: --journal {journal}: no such file", err=True)
        sys.exit(2)

    def act(sundial, airflow, waiting, book):
        return rollback(
            sundial, airflow, processes, book, waiting, dry_run=options["dry_run"]
        )

    _run(act, journal, options)


def _run(act, journal_path: Path, options: dict) -> None:
    from migrate.verify.command import secret_from_env
    from migrate.cutover.core import MAX_MISSED, CutoverUsageError, Waiting
    from migrate.cutover.journal import Journal, JournalError
    from migrate.cutover.sundial import SundialClient, SundialUnreachable
    from migrate.verify.client import AirflowClient, AirflowUnreachable
    from migrate.verify.core import VerifyUsageError

    try:
        if options["username"] and options["token_env"]:
            raise CutoverUsageError(
                "give --username/--password-env or --token-env, not both"
            )
        if bool(options["username"]) != bool(options["password_env"]):
            raise CutoverUsageError("--username and --password-env go together")
        book = Journal(journal_path)
        sundial = SundialClient(
            options["sundial_url"],
            secret_from_env(options["sundial_token_env"], "--sundial-token-env"),
            options["timeout"],
        )
        airflow = AirflowClient(
            options["airflow_url"],
            username=options["username"],
            password=secret_from_env(options["password_env"], "--password-env"),
            token=secret_from_env(options["token_env"], "--token-env"),
            timeout=options["timeout"],
        )
        waiting = Waiting(options["wait_running"], options["kill_running"])
        outcomes = act(sundial, airflow, waiting, book)
    except (
        CutoverUsageError,
        JournalError,
        SundialUnreachable,
        AirflowUnreachable,
        VerifyUsageError,
    ) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    if options["as_json"]:
        document = {
            "ok": all(o.ok for o in outcomes),
            "journal": str(journal_path),
            "processes": [o.as_dict() for o in outcomes],
        }
        click.echo(json_printable(json.dumps(document, indent=2, ensure_ascii=False)))
    else:
        for o in outcomes:
            echo(f"{o.process} (DAG {o.dag_id}): {o.status}: {o.message}")
            if o.missed:
                shown = ", ".join(o.missed[:3]) + (
                    f" ... {o.missed[-1]}" if len(o.missed) > 3 else ""
                )
                echo(
                    f"  {len(o.missed)}{'+' if len(o.missed) >= MAX_MISSED else ''} "
                    f"fire(s) since Sundial's last run that neither ran: {shown} (to run "
                    f"one: airflow dags trigger {o.dag_id})"
                )
        echo(f"journal: {journal_path}", err=True)
    sys.exit(0 if all(o.ok for o in outcomes) else 1)
