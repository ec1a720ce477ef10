"""Read an estate through Sundial's REST API.

Definitions: one ``GET /api/process_definitions/`` (Sundial has no paging for it); the body
is parsed one definition at a time, so only the raw bytes and one definition are in
memory at once.

History: ``GET /api/processes/?start_time=&end_time=&allowed_statuses=...&max_records=``
one time window at a time (a window that comes back full is split in two and asked
again), so memory holds one window, whatever the history's size.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from migrate.extract.http import Client, ExportError, redact_url
from migrate.extract.writer import history_record, iso

UTC = timezone.utc
STATUSES = ("running", "succeeded", "failed")


def iter_definitions(client: Client) -> Iterator[Any]:
    """Each element of the ``GET /api/process_definitions/`` list, in the server's order."""
    path = "/process_definitions/"
    body = client.get_bytes(path)
    where = f"GET {redact_url(client.api + path)}"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{where}: the body is not UTF-8 (byte {exc.start})"
        ) from None
    yield from iter_json_array(text, where, client.last_content_type)


def iter_json_array(text: str, where: str, content_type: str = "") -> Iterator[Any]:
    decoder = json.JSONDecoder()
    size = len(text)
    i = _skip(text, 0)
    if i >= size or text[i] != "[":
        if i < size and text[i] == "{":
            raise ExportError(
                f"{where}: expected a JSON list of process definitions, got an object"
            )
        raise ExportError(
            f"{where}: expected JSON, got {content_type or 'no content type'} starting "
            f"{text[:60]!r} (is --url Sundial's API, not a login page or proxy?)"
        )
    i = _skip(text, i + 1)
    if i < size and text[i] == "]":
        return
    while True:
        try:
            item, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ExportError(
                f"{where}: the body is not valid JSON ({exc.msg} at character {exc.pos}"
                f"{'; the body ends early' if exc.pos >= size - 1 else ''})"
            ) from None
        yield item
        i = _skip(text, i)
        if i < size and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < size and text[i] == "]":
            if _skip(text, i + 1) != size:
                raise ExportError(f"{where}: unexpected data after the JSON list")
            return
        raise ExportError(
            f"{where}: the body is not valid JSON (the list is cut off at character {i})"
        )


def _skip(text: str, i: int) -> int:
    size = len(text)
    while i < size and text[i] in " \t\r\n":
        i += 1
    return i


def iter_history(
    client: Client,
    start: datetime,
    end: datetime,
    *,
    window: timedelta = timedelta(days=1),
    max_records: int = 2000,
    names: Callable[[str], bool] | None = None,
    problems: list[str] | None = None,
    on_window: Callable[[], None] | None = None,
) -> Iterator[dict]:
    """History records (see ``writer.history_record``) with start in ``[start, end)``, in
    start-time order.  ``on_window`` is called after each top-level window."""
    problems = problems if problems is not None else []
    previous_ids: set[str] = set()
    lo = start
    while lo < end:
        hi = min(lo + window, end)
        runs = list(_window(client, lo, hi, max_records))
        records = []
        for run in runs:
            record = _record(run, problems)
            if record is None:
                continue
            if record["process_id"] in previous_ids:
                continue  # a run at the boundary, returned by both windows
            if names is not None and not names(record["process_definition_name"]):
                continue
            records.append(record)
        records.sort(key=lambda r: (r["start_time"], r["process_id"]))
        previous_ids = {r["process_id"] for r in records}
        yield from records
        del runs, records
        if on_window:
            on_window()
        lo = hi


def _window(client: Client, lo: datetime, hi: datetime, max_records: int):
    params = [
        ("start_time", iso(lo)),
        ("end_time", iso(hi)),
        ("max_records", str(max_records)),
    ] + [("allowed_statuses", s) for s in STATUSES]
    runs = client.get_json("/processes/", params)
    if not isinstance(runs, list):
        raise ExportError(
            f"GET {redact_url(client.api)}/processes/: expected a JSON list of runs, "
            f"got {type(runs).__name__}"
        )
    if len(runs) >= max_records and hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0) if mid.replace(microsecond=0) > lo else mid
        yield from _window(client, lo, mid, max_records)
        yield from _window(client, mid, hi, max_records)
        return
    yield from runs


def _record(run: Any, problems: list[str]) -> dict | None:
    try:
        tasks = run.get("task") or []
        return history_record(
            process_id=run["process_id"],
            name=run["process_definition_name"],
            start=_time(run["start_time"]),
            end=_time(run["end_time"]) if run.get("end_time") else None,
            status=run["status"],
            tasks=[
                dict(
                    task_id=t.get("task_id"),
                    name=t["task_definition_name"],
                    start=_time(t["start_time"]),
                    end=_time(t["end_time"]) if t.get("end_time") else None,
                    status=t["status"],
                    previous_attempts=t.get("previous_attempt_count", 0),
                )
                for t in tasks
            ],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        pid = run.get("process_id") if isinstance(run, dict) else None
        problems.append(
            f"history: run {pid or '?'} skipped: unreadable ({type(exc).__name__}: {exc})"
        )
        return None


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
