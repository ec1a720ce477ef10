"""Read an estate straight from Sundial's PostgreSQL database (psycopg 3).

Definitions come from ``process_definition`` and ``task_definition_template`` (streamed,
both ordered by name, merged) and are converted from the stored form to the API wire
shape by ``stored_form.stored_to_wire``.  JSON columns are read as text and parsed here,
so one row with broken JSON costs one problem line, never the export.  History comes from
``process`` joined to ``task`` through a server-side cursor: memory does not grow with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg.types.string import TextLoader

from migrate.extract.http import ExportError
from migrate.extract.stored_form import StoredFormError, stored_to_wire
from migrate.extract.writer import history_record

DEFINITION_TABLES = ("process_definition", "task_definition_template")
HISTORY_TABLES = ("process", "task")
JSON_COLUMNS = {
    "process_definition": ("schedule", "teams", "notifications"),
    "task_definition_template": ("executable",),
}


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for the manifest and messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    params.pop("password", None)
    return make_conninfo(**params)


def connect(dsn: str, timeout: float = 10.0) -> psycopg.Connection:
    shown = redact_dsn(dsn)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise ExportError(
            "--db: not a PostgreSQL connection string (e.g. "
            "postgresql://user@host:5432/sundial or 'host=... dbname=...')"
        ) from None
    params.setdefault("connect_timeout", str(int(timeout)))
    params.setdefault("application_name", "sundial-migrate export")
    try:
        conn = psycopg.connect(**params, autocommit=False)
    except psycopg.OperationalError as exc:
        raise ExportError(f"--db {shown}: {_connect_reason(str(exc))}") from None
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    return conn


def _connect_reason(message: str) -> str:
    text = " ".join(message.split())
    lower = text.lower()
    if "password authentication failed" in lower or "authentication failed" in lower:
        return "authentication failed (check the user and the password, e.g. in PGPASSWORD or ~/.pgpass)"
    if "no password supplied" in lower:
        return "the server wants a password (set PGPASSWORD or use ~/.pgpass)"
    if "connection refused" in lower:
        return "connection refused (is PostgreSQL running there, on that port?)"
    if "does not exist" in lower and "database" in lower:
        return "that database does not exist (check dbname)"
    if "timeout expired" in lower:
        return "no answer from the server (timeout; check host and port)"
    if "could not translate host name" in lower:
        return "host name not found"
    if "no pg_hba.conf entry" in lower:
        return "the server does not accept this client (pg_hba.conf)"
    return text.split(": ", 1)[-1][:200]


def check_tables(conn: psycopg.Connection, tables: tuple[str, ...]) -> None:
    with conn.cursor() as cur:
        missing = []
        for table in tables:
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone()[0] is None:
                missing.append(table)
    conn.rollback()
    if missing:
        raise ExportError(
            f"--db: no table {', '.join(missing)} in this database (is it Sundial's "
            "database? set the schema with options='-c search_path=...' if it is elsewhere)"
        )


@dataclass
class DbDefinition:
    name: str
    wire: dict | None  # None: the row was broken and is skipped
    problem: str | None = None


def iter_definitions(conn: psycopg.Connection) -> Iterator[DbDefinition]:
    """Each process definition, converted to the wire shape; broken ones carry a problem."""
    check_tables(conn, DEFINITION_TABLES)
    try:
        with conn.transaction():
            procs = conn.cursor("sundial_migrate_processes", row_factory=dict_row)
            tasks = conn.cursor("sundial_migrate_tasks", row_factory=dict_row)
            procs.itersize = tasks.itersize = 2000
            procs.execute(
                'SELECT * FROM process_definition ORDER BY process_definition_name COLLATE "C"'
            )
            tasks.execute(
                "SELECT * FROM task_definition_template ORDER BY "
                'process_definition_name COLLATE "C", task_definition_name COLLATE "C"'
            )
            task_iter = iter(tasks)
            pending = next(task_iter, None)
            for row in procs:
                name = row["process_definition_name"]
                rows = []
                while pending is not None and pending["process_definition_name"] < name:
                    pending = next(task_iter, None)  # tasks of no process: ignored
                while (
                    pending is not None and pending["process_definition_name"] == name
                ):
                    rows.append(pending)
                    pending = next(task_iter, None)
                yield _convert(name, row, rows)
            procs.close()
            tasks.close()
    except errors.UndefinedColumn as exc:
        raise ExportError(
            f"--db: the Sundial tables lack a column ({exc.diag.message_primary}); "
            "this schema is not one this tool knows"
        ) from None


def _convert(name: str, row: dict, task_rows: list[dict]) -> DbDefinition:
    where = f"process_definition {name!r}"
    try:
        process = _decode(row, "process_definition", where)
        tasks = []
        for task in task_rows:
            twhere = f"task_definition_template ({name!r}, {task.get('task_definition_name')!r})"
            tasks.append(_decode(task, "task_definition_template", twhere))
        return DbDefinition(name, stored_to_wire(process, tasks))
    except _RowError as exc:
        return DbDefinition(name, None, f"{exc}; process skipped")
    except StoredFormError as exc:
        return DbDefinition(name, None, f"{where}: {exc}; process skipped")
    except Exception as exc:  # a shape no check foresaw: this process, not the export
        detail = " ".join(str(exc).split())[:200]
        return DbDefinition(
            name,
            None,
            f"{where}: cannot be read ({type(exc).__name__}: {detail}); process "
            "skipped (please report it with the row)",
        )


class _RowError(Exception):
    pass


def _decode(row: dict, table: str, where: str) -> dict:
    out = {}
    for column, value in row.items():
        if column in JSON_COLUMNS[table]:
            value = _json(value, f"{where}: column {column}")
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif not isinstance(value, (str, int, float, bool, list, dict, type(None))):
            value = str(value)
        out[column] = value
    return out


def _json(value: Any, where: str) -> Any:
    if value is None or not isinstance(value, (str, bytes)):
        return value
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise _RowError(f"{where}: not valid JSON ({_msg(exc)})") from None
    if isinstance(parsed, str):  # a JSON dump stored as a JSON string
        try:
            parsed = json.loads(parsed)
        except ValueError as exc:
            raise _RowError(
                f"{where}: holds a string that is not valid JSON ({_msg(exc)})"
            ) from None
    return parsed


def _msg(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at character {exc.pos}"
    return str(exc)


def iter_history(
    conn: psycopg.Connection,
    start: datetime,
    end: datetime,
    names: Callable[[str], bool] | None = None,
) -> Iterator[dict]:
    """History records with start in ``[start, end)``, oldest first."""
    check_tables(conn, HISTORY_TABLES)
    query = sql.SQL(
        "SELECT p.process_id, p.process_definition_name, p.started_at, p.ended_at, "
        "p.status::text AS status, t.task_id, t.task_definition_name, "
        "t.started_at AS t_started_at, t.ended_at AS t_ended_at, "
        "t.status::text AS t_status, t.previous_attempts "
        "FROM process p LEFT JOIN task t ON t.process_id = p.process_id "
        "WHERE p.started_at >= %s AND p.started_at < %s "
        "ORDER BY p.started_at, p.process_id, t.started_at, t.previous_attempts, "
        't.task_definition_name COLLATE "C"'
    )
    with conn.transaction():
        cur = conn.cursor("sundial_migrate_history")
        cur.itersize = 5000
        cur.execute(query, (start, end))
        current = None
        tasks: list[dict] = []
        for (
            pid,
            pname,
            started,
            ended,
            status,
            tid,
            tname,
            tstart,
            tend,
            tstatus,
            tprev,
        ) in cur:
            if current is None or current[0] != pid:
                if current is not None and (names is None or names(current[1])):
                    yield history_record(*current, tasks)
                current = (pid, pname, started, ended, status)
                tasks = []
            if tid is not None:
                tasks.append(
                    dict(
                        task_id=tid,
                        name=tname,
                        start=tstart,
                        end=tend,
                        status=tstatus,
                        previous_attempts=tprev or 0,
                    )
                )
        if current is not None and (names is None or names(current[1])):
            yield history_record(*current, tasks)
        cur.close()
