"""The `migrate export` command (registered by migrate/cli.py as ``export``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from migrate.stdio import echo

from migrate.extract.export import ExportResult, Progress, export_api, export_db
from migrate.extract.http import ExportError, HttpOptions, parse_header


class _Bars(Progress):
    def definitions(self, items):
        with click.progressbar(
            items, label="Process definitions", file=sys.stderr, show_pos=True
        ) as bar:
            yield from bar

    def history(self, windows: int):
        bar = click.progressbar(
            length=windows, label="Run history (days)", file=sys.stderr
        )
        bar.__enter__()
        state = {"done": 0}

        def tick() -> None:
            state["done"] += 1
            bar.update(1)
            if state["done"] >= windows:
                bar.__exit__(None, None, None)

        return tick


@click.command("export", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", help="Sundial's base URL (its REST API is under /api).")
@click.option(
    "--db",
    "dsn",
    help="PostgreSQL connection string of Sundial's database, e.g. "
    "postgresql://reader@db:5432/sundial (password from PGPASSWORD or ~/.pgpass).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Export directory (replaced atomically when it holds an older export).",
)
@click.option(
    "--token-env",
    metavar="VAR",
    help="Environment variable holding a bearer token for the API (never printed).",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="Extra HTTP header (repeatable).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds for each HTTP request, its whole body included.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM file of CA certificates to trust instead of the system's.",
)
@click.option(
    "--history-days",
    type=click.FloatRange(min=0),
    default=30,
    show_default=True,
    help="Days of run history to export (0: none).",
)
@click.option(
    "--process",
    "processes",
    multiple=True,
    metavar="GLOB",
    help="Only processes whose name matches (repeatable; default all).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries per HTTP request (connection errors, 429, 5xx).",
)
@click.option(
    "--max-response-mb",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Largest HTTP response read, in MiB after decompression (one definitions "
    "listing, or one history window).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary.")
def export_command(
    url,
    dsn,
    out,
    token_env,
    headers,
    timeout,
    ca_bundle,
    history_days,
    processes,
    retries,
    max_response_mb,
    quiet,
):
    """Export a Sundial estate (definitions and run history) into DIR for `migrate convert`.

    \b
    From the REST API:  migrate export --url https://sundial.example.com --out DIR
    From PostgreSQL:    migrate export --db postgresql://reader@db/sundial --out DIR

    DIR gets process_definitions/*.json (API wire shape), history/processes.jsonl and
    manifest.json (source, counts, checksums, unknown fields, warnings).  The manifest is
    written last: a failed export never leaves a directory that looks complete.

    Exit codes: 0 exported; 1 exported with problems (skipped rows, invalid or suspicious
    definitions: see the warnings); 2 could not export.
    """
    if bool(url) == bool(dsn):
        _fail("give exactly one of --url URL or --db DSN")
    if dsn and (token_env or headers or ca_bundle):
        _fail("--token-env, --header and --ca-bundle only apply to --url")
    if dsn and max_response_mb != 512:
        _fail("--max-response-mb only applies to --url")
    progress = Progress() if quiet else _Bars()
    try:
        if url:
            options = HttpOptions(
                timeout=timeout,
                retries=retries,
                ca_bundle=str(ca_bundle) if ca_bundle else None,
                token_env=token_env,
                headers=dict(parse_header(h) for h in headers),
                max_response_bytes=max_response_mb * 1024 * 1024,
            )
            result = export_api(
                url,
                out,
                options,
                history_days=history_days,
                processes=processes,
                progress=progress,
            )
        else:
            result = export_db(
                dsn,
                out,
                history_days=history_days,
                processes=processes,
                progress=progress,
            )
    except ValueError as exc:
        _fail(str(exc))
    except ExportError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written")
    _summary(result, quiet)
    sys.exit(result.exit_code)


def _fail(message: str) -> None:
    echo(f"error: {message}", err=True)
    sys.exit(2)


def _summary(result: ExportResult, quiet: bool) -> None:
    for line in result.warnings:
        echo(f"warning: {line}", err=True)
    if quiet:
        return
    c = result.manifest["counts"]
    echo(
        f"Exported {c['process_definitions']} process definitions "
        f"({c['invalid_definitions']} invalid, {c['skipped']} skipped) and "
        f"{c['history_processes']} runs to {result.out}; "
        f"{len(result.warnings)} warnings, {len(result.manifest['unknown_fields'])} "
        "unknown fields (see manifest.json).",
        err=True,
    )
