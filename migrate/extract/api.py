"""Read an estate through Sundial's REST API.

Definitions: one ``GET /api/process_definitions/`` (Sundial has no paging for it); the body
is parsed one definition at a time, so only the raw bytes and one definition are in
memory at once.

History: ``GET /api/processes/?start_time=&end_time=&allowed_statuses=...&max_records=``
one time window at a time.  ``HistoryStream`` fetches a few windows ahead on worker
threads (one HTTP session each) and hands them out in time order, so the server works
while the export writes; memory holds a few windows, whatever the history's size.  A
window that comes back full (``max_records`` runs) is split in two and asked again, and
each day is cut into as many windows as the density seen two days earlier needs, so
windows rarely come back full.  The result does not depend on how days are cut: runs are
written sorted by (start_time, process_id), and a run returned by two windows (Sundial's
``end_time`` is inclusive) is written once.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from json.encoder import encode_basestring
from operator import attrgetter, itemgetter
from typing import Any, Callable, Iterator

from migrate.extract.http import Client, ExportError, redact_url
from migrate.extract.writer import dumps_run, history_record, iso

try:  # a dependency of Airflow; without it every window takes the reference path
    import msgspec
except ImportError:  # pragma: no cover
    msgspec = None

UTC = timezone.utc
STATUSES = ("running", "succeeded", "failed")


def iter_definitions(client: Client) -> Iterator[Any]:
    """Each element of the ``GET /api/process_definitions/`` list, in the server's order.
    The request is made when this is called, not when the iteration starts."""
    path = "/process_definitions/"
    body = client.get_bytes(path)
    content_type = client.last_content_type
    where = f"GET {redact_url(client.api + path)}"
    return _iter_body(body, where, content_type)


def _iter_body(body: bytes, where: str, content_type: str) -> Iterator[Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{where}: the body is not UTF-8 (byte {exc.start})"
        ) from None
    del body
    yield from iter_json_array(text, where, content_type)


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
        except (ValueError, RecursionError) as exc:
            # valid JSON Python will not build (an integer of thousands of digits,
            # nesting thousands deep): this element only, as the text it is
            end = _element_end(text, i)
            if end is None:
                raise ExportError(
                    f"{where}: the body is not valid JSON (the list is cut off after "
                    f"character {i})"
                ) from None
            reason = (
                "nested too deeply to read"
                if isinstance(exc, RecursionError)
                else " ".join(str(exc).split("; use")[0].split())
            )
            item, i = Unreadable(i, text[i:end], reason), end
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


@dataclass(frozen=True)
class Unreadable:
    """A list element that is valid JSON but cannot be made into Python values."""

    position: int  # character offset in the body
    raw: str  # its text, exported as it is
    reason: str

    _NAME = re.compile(r'"process_definition_name"\s*:\s*"((?:[^"\\]|\\.)*)"')

    def name(self) -> str | None:
        """The first process_definition_name string in it, if any."""
        match = self._NAME.search(self.raw)
        if match is None:
            return None
        try:
            return json.loads(f'"{match.group(1)}"')
        except ValueError:
            return None


def _element_end(text: str, i: int) -> int | None:
    """Where the JSON list element starting at ``i`` ends (strings and nesting followed
    without recursion); None when the body ends first."""
    depth, size, j = 0, len(text), i
    while j < size:
        c = text[j]
        if c == '"':
            j += 1
            while j < size and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            if depth == 0:
                return j
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            if depth == 0:
                return j  # the list's own end: a scalar element ended
            depth -= 1
            if depth == 0:
                return j + 1
        elif c == "," and depth == 0:
            return j
        j += 1
    return None


def _skip(text: str, i: int) -> int:
    size = len(text)
    while i < size and text[i] in " \t\r\n":
        i += 1
    return i


@dataclass
class Batch:
    """Consecutive history lines, ready to append to ``history/processes.jsonl``."""

    data: bytes
    runs: int
    tasks: int
    problems: list[str]
    days_done: int  # top-level windows this batch completes (0 or 1)


@dataclass
class _Window:
    day: int
    last: bool  # the day's last window
    lo: datetime
    hi: datetime
    max_records: int
    future: Future = field(default_factory=Future)  # (body, content type), fetched


class HistoryStream:
    """History records with start in ``[start, end)`` (Sundial: ``[start, end]``), as
    ``Batch``es in time order.

    ``workers`` threads only fetch bodies (each with its own HTTP session), at most
    ``ahead`` windows beyond the one the caller is waiting for; decoding and formatting
    happen in the caller's thread, when it takes a window.  (Formatting on the workers
    gains nothing under the GIL, and CPU-bound threads would make the caller wait for
    the GIL after each of its own file operations.)

    ``poll()`` returns the batches that are ready without waiting; iterating waits for
    the rest and raises the first error in time order.  ``close()`` stops the workers.
    """

    LAG = 2  # day d is cut using the density of day d - LAG
    FILL = 0.6  # aim for windows this full
    # a one-second window that comes back full is asked again with max_records doubled,
    # up to this many times the usual max_records (2,000 x 64 = 128,000 runs in a second)
    MAX_GROWTH = 64

    def __init__(
        self,
        client: Client,
        start: datetime,
        end: datetime,
        *,
        window: timedelta = timedelta(days=1),
        max_records: int = 2000,
        names: Callable[[str], bool] | None = None,
        workers: int = 3,
        ahead: int = 6,
    ):
        self.client = client
        self.max_records = max(1, max_records)
        self.names = _name_cache(names) if names is not None else None
        self.days: list[tuple[datetime, datetime]] = []
        lo = start
        while lo < end:
            hi = min(lo + window, end)
            self.days.append((lo, hi))
            lo = hi
        self.counts: dict[int, int] = {}  # day -> runs the server returned
        self._day_count = 0
        self._next_day = 0
        self._planned: deque[_Window] = deque()
        self._pending: deque[_Window] = deque()
        self._previous_ids: set[str] = set()
        self.ahead = max(1, ahead)
        self._jobs: deque[_Window | None] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(
                target=self._work, name=f"sundial-history-{i}", daemon=True
            )
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()
        self._fill()

    # -- the caller's side ---------------------------------------------------------

    def poll(self) -> list[Batch]:
        """The batches whose windows have arrived, in order, without waiting (a window
        that failed is left for the iteration to raise)."""
        batches = []
        while self._pending:
            head = self._pending[0].future
            if not head.done() or head.exception() is not None:
                break
            batch = self._take()
            if batch is not None:
                batches.append(batch)
        return batches

    def __iter__(self) -> Iterator[Batch]:
        while self._pending:
            batch = self._take()
            if batch is not None:
                yield batch

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for window in self._pending:
            window.future.cancel()
        with self._wake:
            self._jobs.clear()
            self._jobs.extend([None] * len(self._threads))
            self._wake.notify_all()

    def __enter__(self) -> "HistoryStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _take(self) -> Batch | None:
        """Decode and format the first window; None when it came back full and was
        split in two (fetched first, ahead of the rest)."""
        window = self._pending.popleft()
        body, content_type = window.future.result()
        runs, fast = self._decode(body, content_type)
        del body
        if len(runs) >= window.max_records:
            del runs
            self._split(window)
            return None
        records, problems = window_records(runs, fast, self.names)
        ids = {record[1] for record in records}
        if not ids.isdisjoint(self._previous_ids):
            # runs at the boundary, returned by both windows (Sundial's end_time is
            # inclusive): the earlier window wrote them
            records = [r for r in records if r[1] not in self._previous_ids]
        self._previous_ids = ids
        lines = [record[2] for record in records]
        tasks = sum([record[3] for record in records])
        self._day_count += len(runs)
        if window.last:
            self.counts[window.day] = self._day_count
            self._day_count = 0
        self._fill()
        data = "".join(lines).encode("utf-8", "surrogatepass")
        return Batch(data, len(lines), tasks, problems, 1 if window.last else 0)

    def _split(self, window: _Window) -> None:
        """A full window: its halves go first; a window of one second or less is asked
        again with twice the ``max_records`` instead."""
        lo, hi = window.lo, window.hi
        if hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.replace(microsecond=0) > lo:
                mid = mid.replace(microsecond=0)
            halves = [
                _Window(window.day, False, lo, mid, self.max_records),
                _Window(window.day, window.last, mid, hi, self.max_records),
            ]
        elif window.max_records * 2 > self.max_records * self.MAX_GROWTH:
            raise ExportError(
                f"GET {redact_url(self.client.api)}/processes/: the window "
                f"{iso(lo)} .. {iso(hi)} (one second) came back full again with "
                f"max_records={window.max_records}: the server ignores max_records, or "
                "holds more runs in one second than any Sundial makes; not asked again "
                "(export with --history-days 0 to skip the run history)"
            )
        else:
            halves = [_Window(window.day, window.last, lo, hi, window.max_records * 2)]
        self._pending.extendleft(reversed(halves))
        with self._wake:
            self._jobs.extendleft(reversed(halves))  # before the windows queued
            self._wake.notify(len(halves))

    def _decode(self, body: bytes, content_type: str) -> tuple[list, bool]:
        """The window's runs, decoded strictly by msgspec (fast) when it can, else by
        ``json`` (the reference path, with its error messages)."""
        if _decode_runs is not None:
            try:
                return _decode_runs(body), True
            except (msgspec.DecodeError, UnicodeDecodeError):
                pass
        runs = self.client.parse_json("/processes/", body, content_type)
        if not isinstance(runs, list):
            raise ExportError(
                f"GET {redact_url(self.client.api)}/processes/: expected a JSON list of "
                f"runs, got {type(runs).__name__}"
            )
        return runs, False

    # -- planning --------------------------------------------------------------------

    def _fill(self) -> None:
        while len(self._pending) < self.ahead and not self._closed:
            if not self._planned and not self._plan_next_day():
                return
            window = self._planned.popleft()
            self._pending.append(window)
            with self._wake:
                self._jobs.append(window)
                self._wake.notify()

    def _plan_next_day(self) -> bool:
        """Cut the next day into windows; False when it must wait for the density of an
        earlier day (or when every day is planned).  Depends only on the counts of the
        days taken, so the cut is the same on every run."""
        day = self._next_day
        if day >= len(self.days):
            return False
        lo, hi = self.days[day]
        pieces = 1
        if day > 0:
            basis = max(0, day - self.LAG)
            if basis not in self.counts:
                return False
            blo, bhi = self.days[basis]
            expected = self.counts[basis] * ((hi - lo) / (bhi - blo))
            pieces = math.ceil(expected / (self.max_records * self.FILL))
            pieces = max(1, min(pieces, int((hi - lo).total_seconds())))
        bounds = [lo]
        step = (hi - lo) / pieces
        for i in range(1, pieces):
            cut = lo + timedelta(seconds=round((step * i).total_seconds()))
            if bounds[-1] < cut < hi:
                bounds.append(cut)
        bounds.append(hi)
        for i in range(len(bounds) - 1):
            last = i == len(bounds) - 2
            self._planned.append(
                _Window(day, last, bounds[i], bounds[i + 1], self.max_records)
            )
        self._next_day += 1
        return True

    # -- the workers -------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._jobs:
                    self._wake.wait()
                window = self._jobs.popleft()
            if window is None:
                return
            if not window.future.set_running_or_notify_cancel():
                continue
            params = [
                ("start_time", iso(window.lo)),
                ("end_time", iso(window.hi)),
                ("max_records", str(window.max_records)),
            ] + [("allowed_statuses", s) for s in STATUSES]
            try:
                body = self.client.get_bytes("/processes/", params)
            except BaseException as exc:  # handed to the caller, in order
                window.future.set_exception(exc)
            else:
                window.future.set_result((body, self.client.last_content_type))
            del window


def window_records(
    runs: list, fast: bool, names: Callable[[Any], bool] | None = None
) -> tuple[list[tuple[str, str, str, int]], list[str]]:
    """(start_time, process_id, line, task count) of each run of a window, sorted by
    (start_time, process_id), and the problems (runs skipped).  ``runs`` come from
    msgspec when ``fast`` (see the end of this file), else from ``json``."""
    if fast:
        records = _fast_records(runs, names)
        if records is not None:
            records.sort(key=_run_order)
            return records, []
        runs = [_as_dict(run) for run in runs]
    problems: list[str] = []
    records = []
    for run in runs:
        record = _record(run, problems)
        if record is None:
            continue
        if names is not None and not names(record["process_definition_name"]):
            continue
        line = dumps_run(record).decode("utf-8", "surrogatepass")
        records.append(
            (record["start_time"], record["process_id"], line, len(record["tasks"]))
        )
    records.sort(key=_run_order)
    return records, problems


_run_order = itemgetter(0, 1)  # (start_time, process_id), as the export is sorted


def _name_cache(names: Callable[[str], bool]) -> Callable[[Any], bool]:
    seen: dict[Any, bool] = {}

    def wanted(name: Any) -> bool:
        try:
            return seen[name]
        except KeyError:
            result = seen[name] = names(name)
            return result
        except TypeError:  # unhashable: not a name Sundial would send
            return names(name)

    return wanted


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


# -- the fast path ------------------------------------------------------------------------
#
# Sundial's runs, decoded by msgspec into the fields the export keeps, with strict types:
# anything the reference path (``_record``) would treat differently, a number where a
# string belongs, a missing field, makes the decoder fail and the window take the
# reference path.  Times in Sundial's own format (``2026-01-15T12:00:00.000Z``, UTC,
# milliseconds) are already what ``iso`` writes, and compare in time order as strings; a
# window with any other time takes the reference path too.  The lines are byte for byte
# ``dumps_run(history_record(...))`` (tests/extract/test_history_fast.py).

if msgspec is not None:

    class _Task(msgspec.Struct, gc=False):  # trees: never in a cycle
        task_definition_name: str
        start_time: str
        status: str
        task_id: str | None = None
        end_time: str | None = None
        previous_attempt_count: int = 0

    class _Run(msgspec.Struct, gc=False):
        process_id: str
        process_definition_name: str
        start_time: str
        status: str
        end_time: str | None = None
        task: list[_Task] | None = None

    _decode_runs = msgspec.json.Decoder(list[_Run]).decode
else:  # pragma: no cover
    _decode_runs = None

_SHAPE = "0000-00-00T00:00:00.000Z"
_DIGITS_TO_0 = str.maketrans("123456789", "000000000")
_parse_time = datetime.fromisoformat


def _canonical_times(times: list[str]) -> bool:
    """Every time is ``YYYY-MM-DDTHH:MM:SS.mmmZ``, a real moment, year 1000 or later
    (``iso`` writes such a time back unchanged)."""
    if not times:
        return True
    if set(map(len, times)) != {24}:
        return False
    joined = "".join(times)
    if joined.translate(_DIGITS_TO_0) != _SHAPE * len(times) or "0" in joined[::24]:
        return False
    try:
        deque(map(_parse_time, times), maxlen=0)  # month 13, Feb 30, hour 24...
    except ValueError:
        return False
    return True


_by_start = attrgetter("start_time", "previous_attempt_count", "task_definition_name")


def _fast_records(runs: list, names) -> list[tuple[str, str, str, int]] | None:
    """The window's lines, or None when it needs the reference path."""
    enc = encode_basestring
    records = []
    times = []  # every time written as is, checked at the end
    add_time = times.append
    for run in runs:
        name = run.process_definition_name
        start = run.start_time
        add_time(start)
        end = run.end_time
        if end:
            add_time(end)
        else:
            end = None
        tasks = run.task
        if names is not None and not names(name):
            for t in tasks or ():  # the reference path reads them all the same
                add_time(t.start_time)
                if t.end_time:
                    add_time(t.end_time)
            continue
        parts = []
        if tasks:
            tasks = sorted(tasks, key=_by_start)
            ends = []
            for t in tasks:
                add_time(t.start_time)
                t_end = t.end_time
                if t_end:
                    add_time(t_end)
                    ends.append(t_end)
                    t_end = f'"{t_end}"'
                else:
                    t_end = "null"
                parts.append(
                    f'{{"end_time": {t_end}, '
                    f'"previous_attempt_count": {t.previous_attempt_count}, '
                    f'"start_time": "{t.start_time}", "status": {enc(t.status)}, '
                    f'"task_definition_name": {enc(t.task_definition_name)}, '
                    f'"task_id": {"null" if t.task_id is None else enc(t.task_id)}}}'
                )
            if end is None and ends and run.status != "running":
                end = max(ends)
        end = "null" if end is None else f'"{end}"'
        line = (
            f'{{"end_time": {end}, "process_definition_name": {enc(name)}, '
            f'"process_id": {enc(run.process_id)}, "start_time": "{start}", '
            f'"status": {enc(run.status)}, "tasks": [{", ".join(parts)}]}}\n'
        )
        records.append((start, run.process_id, line, len(parts)))
    if not _canonical_times(times):
        return None
    return records


def _as_dict(run) -> dict:
    """A decoded run as the reference path sees it (what ``json.loads`` would give for
    the fields it reads)."""
    out = msgspec.structs.asdict(run)
    if run.task is not None:
        out["task"] = [msgspec.structs.asdict(t) for t in run.task]
    return out
