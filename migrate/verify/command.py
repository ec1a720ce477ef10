"""`migrate verify`: the click command (registered by migrate/cli.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from migrate.stdio import echo, json_printable, printable

from migrate.verify.client import AirflowUnreachable
from migrate.verify.core import VerifyUsageError


@click.command("verify")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--report",
    "report",
    required=True,
    type=click.Path(path_type=Path),
    help="The output directory of migrate convert (or its report/parity.json): which "
    "DAG id and file each process became.",
)
@click.option(
    "--airflow-url",
    required=True,
    help="Base URL of the Airflow 3 api-server (e.g. https://airflow.example.com).",
)
@click.option(
    "--username", default=None, help="Log in as this user (POST /auth/token)."
)
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding the password for --username.",
)
@click.option(
    "--token-env",
    default=None,
    metavar="VAR",
    help="Environment variable holding an API token (JWT) instead of a login.",
)
@click.option(
    "--timezone",
    default=None,
    help="The IANA zone Sundial evaluated cron schedules in "
    "[default: the conversion's, from the report, else UTC].",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per request.")
@click.option(
    "--ca-bundle",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="CA certificates to verify the api-server's TLS certificate with.",
)
@click.option(
    "--journal",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The cutover journal, for which processes are cut over "
    "[default: DIR/cutover-journal.jsonl when it exists].",
)
@click.option(
    "--runs",
    "check_runs",
    is_flag=True,
    help="Also prove it from the runs: since each process's cutover (the journal's), one "
    "scheduled DAG run per Quartz fire (none missed or doubled), a continuous process's "
    "runs at Sundial's period, no task over Sundial's max_attempts, and each finished "
    "run failed exactly when a Sundial task failed.",
)
@click.option(
    "--since",
    default=None,
    help="With --runs: check the runs since this ISO 8601 time, for every process "
    "(cut over or not) instead of since each cutover.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify_command(
    sources,
    report,
    airflow_url,
    username,
    password_env,
    token_env,
    timezone,
    timeout,
    ca_bundle,
    journal,
    check_runs,
    since,
    as_json,
):
    """Check a running Airflow against the Sundial definitions it replaces.

    \b
      migrate verify estate/ --report airflow/ --airflow-url https://airflow.example.com \\
          --username admin --password-env AIRFLOW_PASSWORD

    SOURCE: the Sundial definitions (as for migrate diff).  Through Airflow's REST API
    (v2), for every process: its DAG (the id from --report) is present, parsed and
    without import errors; it never runs in both schedulers (before its cutover the DAG
    is paused while Sundial runs the process; a process Sundial had paused is paused in
    both; a big-bang conversion's DAG is paused exactly as Sundial had it); and its next
    planned run is the Sundial schedule's next fire time (Quartz), or a fire that is
    due now.  DAGs and import errors the report does not know are listed.

    Exit codes: 0 all good; 1 differences (one line each, naming process and DAG);
    2 cannot connect or log in, or bad input.
    """
    from migrate.verify.client import AirflowClient
    from migrate.verify.core import load_side, run_verify
    from migrate.verify.render import to_json, to_table

    try:
        if username and token_env:
            raise VerifyUsageError(
                "give --username/--password-env or --token-env, not both"
            )
        if bool(username) != bool(password_env):
            raise VerifyUsageError("--username and --password-env go together")
        password = secret_from_env(password_env, "--password-env")
        token = secret_from_env(token_env, "--token-env")
        side = load_side(list(sources), report, timezone)  # before any request
        phases = _phases(journal, report)
        runs_since = _runs_since(check_runs, since, journal, report)
        client = AirflowClient(
            airflow_url,
            username=username,
            password=password,
            token=token,
            timeout=timeout,
            verify=ca_bundle or True,
        )
        result = run_verify(
            list(sources),
            report,
            client,
            timezone,
            side=side,
            phases=phases,
            runs_since=runs_since,
        )
    except (VerifyUsageError, AirflowUnreachable) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(
        json_printable(to_json(result)) if as_json else printable(to_table(result)),
        nl=False,
    )
    sys.exit(result.exit_code())


def _runs_since(check_runs: bool, since: str | None, journal, report):
    """process -> since when its runs are checked ("*": every process), or None."""
    from datetime import datetime, timezone

    from migrate.cutover import journal as journals

    if since is not None and not check_runs:
        raise VerifyUsageError("--since goes with --runs")
    if not check_runs:
        return None
    if since is not None:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise VerifyUsageError(
                f"--since {since!r}: not an ISO 8601 time (e.g. 2026-12-01T00:00Z)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return {"*": moment}
    path = journal or journals.default_path(report)
    try:
        return journals.cut_over_at(journals.read(path))
    except journals.JournalError as exc:
        raise VerifyUsageError(str(exc)) from None


def _phases(journal: Path | None, report: Path) -> dict[str, str]:
    from migrate.cutover import journal as journals

    path = journal or journals.default_path(report)
    if journal is not None and not path.exists():
        raise VerifyUsageError(f"--journal {path}: no such file")
    try:
        return journals.phases(journals.read(path))
    except journals.JournalError as exc:
        raise VerifyUsageError(str(exc)) from None


def secret_from_env(var: str | None, option: str) -> str | None:
    """The value of environment variable ``var`` (None when no variable is named);
    an unset or empty one is a usage error naming the option."""
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise VerifyUsageError(f"{option} {var}: the environment variable is not set")
    return value
