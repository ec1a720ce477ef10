"""The API history path: the fast path (msgspec, lines built directly) against the
reference path (``json``, ``history_record``, ``json.dumps``), and ``HistoryStream``'s
windows (cut by density, split when full, asked again with a larger ``max_records`` when
one second holds more runs than that, deduplicated, in order, the same whatever the
number of workers)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.extract import api
from migrate.extract.http import ExportError
from migrate.extract.writer import iso

UTC = timezone.utc
T0 = datetime(2026, 1, 10, tzinfo=UTC)


def fast_or_reference(body: bytes, names=None):
    """What HistoryStream does with a body: msgspec when it decodes, else json."""
    try:
        runs, fast = api._decode_runs(body), True
    except (msgspec.DecodeError, UnicodeDecodeError):
        runs, fast = json.loads(body), False
    return api.window_records(runs, fast, names)


def reference(body: bytes, names=None):
    return api.window_records(json.loads(body), False, names)


# -- the fast path is the reference path, byte for byte ---------------------------------

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)
).map(lambda d: d.replace(tzinfo=UTC))
canonical = moments.map(iso)
odd_times = st.one_of(
    moments.map(lambda d: d.isoformat()),  # +00:00, microseconds
    moments.map(lambda d: d.astimezone(timezone(timedelta(hours=5))).isoformat()),
    moments.map(lambda d: iso(d).replace("T", " ")),
    moments.map(lambda d: iso(d)[:-1]),  # no zone: UTC
    st.sampled_from(
        [
            "0999-03-04T05:06:07.890Z",  # iso() writes year 999 without padding
            "2026-02-30T00:00:00.000Z",  # no such day
            "2026-01-15T24:00:00.000Z",
            "2026-W03-4T12:00:00.123Z",  # ISO week date, 24 characters
            "2026-01-15T12:00:00,123Z",
            "not a time",
            "",
        ]
    ),
    st.integers(),
    st.none(),
)
times = st.one_of(canonical, canonical, canonical, odd_times)
names = st.one_of(
    st.sampled_from(["etl", "sales report", "finance/daily close", 'é"\\\n\u2028']),
    st.text(max_size=8),
)
statuses = st.one_of(
    st.sampled_from(["running", "succeeded", "failed"]), st.text(max_size=4), st.none()
)
attempts = st.one_of(
    st.integers(0, 3), st.integers(), st.booleans(), st.just(1.0), st.just("2")
)
MISSING = object()


def maybe(strategy, missing=0.15):
    return st.one_of(strategy, st.just(MISSING)) if missing else strategy


@st.composite
def task(draw):
    t = {
        "task_id": draw(
            maybe(st.one_of(st.uuids().map(str), st.none(), st.integers()))
        ),
        "task_definition_name": draw(maybe(names, 0.05)),
        "start_time": draw(maybe(times, 0.05)),
        "end_time": draw(maybe(st.one_of(times, st.none(), st.just("")))),
        "previous_attempt_count": draw(maybe(attempts)),
        "status": draw(maybe(statuses, 0.05)),
        "log_entries": [],
    }
    return {k: v for k, v in t.items() if v is not MISSING}


@st.composite
def run(draw):
    r = {
        "process_id": draw(maybe(st.one_of(st.uuids().map(str), st.integers()), 0.05)),
        "process_definition_name": draw(maybe(names, 0.05)),
        "start_time": draw(maybe(times, 0.05)),
        "end_time": draw(maybe(st.one_of(times, st.none(), st.just("")))),
        "status": draw(maybe(statuses, 0.05)),
        "task": draw(maybe(st.one_of(st.lists(task(), max_size=5), st.none()))),
        "metadata": {"x": 1},
    }
    return {k: v for k, v in r.items() if v is not MISSING}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(run(), run(), run(), st.integers(), st.text()), max_size=8),
    st.booleans(),
)
def test_fast_path_writes_what_the_reference_path_writes(runs, filtered):
    body = json.dumps(runs, ensure_ascii=False).encode("utf-8", "surrogatepass")
    wanted = (lambda name: isinstance(name, str) and name < "m") if filtered else None
    assert fast_or_reference(body, wanted) == reference(body, wanted)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "process_id": st.uuids().map(str),
                "process_definition_name": names,
                "start_time": canonical,
                "status": st.sampled_from(["running", "succeeded", "failed"]),
                "task": st.lists(
                    st.fixed_dictionaries(
                        {
                            "task_id": st.uuids().map(str),
                            "task_definition_name": st.sampled_from(["a", "b", "c"]),
                            "start_time": st.sampled_from(
                                ["2026-01-10T00:00:00.000Z", "2026-01-10T00:00:01.000Z"]
                            ),
                            "end_time": st.one_of(canonical, st.just("")),
                            "previous_attempt_count": st.integers(0, 2),
                            "status": st.sampled_from(["succeeded", "failed"]),
                        }
                    ),
                    max_size=6,
                ),
            }
        ),
        max_size=6,
    )
)
def test_fast_path_on_well_formed_windows(runs):
    """Sundial's own shape (ties in task order included) takes the fast path."""
    body = json.dumps(runs).encode()
    records, problems = fast_or_reference(body)
    assert api._fast_records(api._decode_runs(body), None) is not None
    assert (records, problems) == reference(body)


string_times = st.one_of(
    canonical,
    canonical,
    canonical,
    canonical,
    odd_times.filter(lambda t: isinstance(t, str) and t != ""),
)


@st.composite
def typed_task(draw, canonical_only):
    times = canonical if canonical_only else string_times
    t = {
        "task_id": draw(maybe(st.one_of(st.uuids().map(str), st.none(), names))),
        "task_definition_name": draw(st.sampled_from(["a", "b", 'é"\n'])),
        "start_time": draw(
            st.one_of(st.sampled_from(["2026-01-10T00:00:00.000Z"]), times)
        ),
        "end_time": draw(maybe(st.one_of(times, st.none(), st.just("")))),
        "previous_attempt_count": draw(
            maybe(st.one_of(st.integers(0, 2), st.integers()))
        ),
        "status": draw(statuses.filter(lambda s: s is not None)),
    }
    return {k: v for k, v in t.items() if v is not MISSING}


@st.composite
def typed_run(draw, canonical_only):
    times = canonical if canonical_only else string_times
    r = {
        "process_id": draw(st.sampled_from(["p1", "p2"]) | st.uuids().map(str)),
        "process_definition_name": draw(names),
        "start_time": draw(times),
        "end_time": draw(maybe(st.one_of(times, st.none(), st.just("")))),
        "status": draw(st.sampled_from(["running", "succeeded", "failed", "x"])),
        "task": draw(
            maybe(
                st.one_of(st.lists(typed_task(canonical_only), max_size=5), st.none())
            )
        ),
    }
    return {k: v for k, v in r.items() if v is not MISSING}


@settings(max_examples=400, deadline=None)
@given(
    st.booleans().flatmap(lambda c: st.lists(typed_run(c), max_size=6)),
    st.booleans(),
)
def test_fast_path_on_windows_msgspec_accepts(runs, filtered):
    """Every field of the right type, times canonical or not (a window with one odd
    time goes the reference way as a whole), duplicate process ids, ties."""
    body = json.dumps(runs, ensure_ascii=False).encode("utf-8", "surrogatepass")
    api._decode_runs(body)  # decodes: the fast path is tried
    wanted = (lambda name: name < "m") if filtered else None
    assert fast_or_reference(body, wanted) == reference(body, wanted)


def test_a_lone_surrogate_or_odd_json_takes_the_reference_path():
    run = {
        "process_id": "p",
        "process_definition_name": "\ud800x",
        "start_time": "2026-01-10T00:00:00.000Z",
        "status": "succeeded",
        "task": [],
    }
    body = json.dumps([run]).encode()  # "\ud800" escaped: msgspec refuses it
    assert fast_or_reference(body) == reference(body)
    bom = (
        b"\xef\xbb\xbf" + json.dumps([dict(run, process_definition_name="x")]).encode()
    )
    assert fast_or_reference(bom) == reference(bom)


# -- HistoryStream against a scripted server -------------------------------------------


class Scripted:
    """A stand-in for ``Client``: runs served like Sundial's GET /api/processes (most
    recent first, ``max_records``), with an exclusive (fixture) or inclusive (Sundial)
    ``end_time``; records every request."""

    api = "http://sundial.test/api"

    def __init__(self, runs, inclusive=False, fail=None):
        self.runs = runs
        self.inclusive = inclusive
        self.fail = fail
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()

    @property
    def last_content_type(self):
        return "application/json"

    def get_bytes(self, path, params):
        query = dict(params)
        lo, hi = query["start_time"], query["end_time"]
        limit = int(query["max_records"])
        with self.lock:
            self.requests.append((lo, hi, limit))
        if self.fail and self.fail(lo, hi):
            raise ExportError(f"GET {self.api}/processes/: HTTP 500 after 6 attempts")
        inside = [
            r
            for r in self.runs
            if lo <= r["start_time"]
            and (r["start_time"] <= hi if self.inclusive else r["start_time"] < hi)
        ]
        inside.sort(key=lambda r: (r["start_time"], r["process_id"]), reverse=True)
        return json.dumps(inside[:limit]).encode()

    def parse_json(self, path, body, content_type):
        return json.loads(body)


def make_runs(n, seconds, seed=1):
    import random

    rnd = random.Random(seed)
    out = []
    for i in range(n):
        start = T0 + timedelta(seconds=rnd.randrange(seconds))
        out.append(
            {
                "process_id": f"{i:08d}-{rnd.randrange(10**6)}",
                "process_definition_name": f"p{i % 7}",
                "start_time": iso(start),
                "status": "succeeded",
                "task": [
                    {
                        "task_definition_name": "t",
                        "start_time": iso(start),
                        "end_time": iso(start + timedelta(seconds=30)),
                        "status": "succeeded",
                        "previous_attempt_count": 0,
                    }
                ],
            }
        )
    return out


def export_lines(client, days=5, **options) -> tuple[bytes, HistoryCounts]:
    start = T0
    stream = api.HistoryStream(client, start, start + timedelta(days=days), **options)
    with stream:
        batches = list(stream)
    data = b"".join(b.data for b in batches)
    return data, HistoryCounts(batches, stream)


class HistoryCounts:
    def __init__(self, batches, stream):
        self.runs = sum(b.runs for b in batches)
        self.days = sum(b.days_done for b in batches)
        self.problems = [p for b in batches for p in b.problems]
        self.stream = stream


def expected_lines(runs) -> bytes:
    records, _ = reference(json.dumps(runs).encode())
    seen, lines = set(), []
    for _start, pid, line, _count in records:
        if pid not in seen:
            seen.add(pid)
            lines.append(line)
    return "".join(lines).encode()


@pytest.mark.parametrize("inclusive", [False, True])
@pytest.mark.parametrize("workers", [1, 4])
def test_windows_are_complete_ordered_and_deduplicated(inclusive, workers):
    runs = make_runs(3000, 5 * 86400)
    # runs exactly on window boundaries: an inclusive end_time returns them twice
    for i, day in enumerate(range(1, 5)):
        runs[i]["start_time"] = iso(T0 + timedelta(days=day))
    client = Scripted(runs, inclusive=inclusive)
    data, counts = export_lines(client, max_records=200, workers=workers)
    assert data == expected_lines(runs)
    assert counts.runs == 3000 and counts.days == 5 and counts.problems == []


def test_the_cut_follows_the_density_and_does_not_depend_on_the_workers():
    runs = make_runs(6000, 10 * 86400)
    one, four = Scripted(runs), Scripted(runs)
    a, _ = export_lines(one, days=10, max_records=250, workers=1)
    b, _ = export_lines(four, days=10, max_records=250, workers=4, ahead=9)
    assert a == b == expected_lines(runs)
    assert sorted(one.requests) == sorted(four.requests)
    full = [
        r
        for r in one.requests
        if sum(1 for x in runs if r[0] <= x["start_time"] < r[1]) >= 250
    ]
    # ~600 runs a day, cut in windows of ~150 (0.6 x 250) from the density two days
    # earlier: only the first day, asked blind, comes back full (and is split twice)
    assert len(full) == 3
    assert len(one.requests) <= 3 + 4 + 9 * 5


def test_a_second_with_more_runs_than_max_records_is_asked_again_larger():
    runs = make_runs(50, 86400)
    crowded = iso(T0 + timedelta(hours=5))
    for i, r in enumerate(runs[:30]):
        r["start_time"] = crowded
    client = Scripted(runs)
    data, counts = export_lines(client, days=1, max_records=8)
    assert data == expected_lines(runs) and counts.runs == 50
    assert (crowded, iso(T0 + timedelta(hours=5, seconds=1)), 32) in client.requests


def test_errors_come_in_time_order_and_poll_leaves_them():
    runs = make_runs(500, 3 * 86400)
    day2 = iso(T0 + timedelta(days=1))
    client = Scripted(runs, fail=lambda lo, hi: lo >= day2)
    stream = api.HistoryStream(client, T0, T0 + timedelta(days=3), workers=3)
    with stream:
        import time

        deadline = time.monotonic() + 10
        taken = []
        while time.monotonic() < deadline and not taken:
            taken = stream.poll()  # the first day only: the second one failed
        with pytest.raises(ExportError, match="HTTP 500"):
            taken += list(stream)
    assert sum(b.days_done for b in taken) == 1


def test_a_window_that_is_not_a_list_is_one_clear_error(server):
    from migrate.extract.http import Client

    server.inject("status", times=None, path="/api/processes/", status=200, body=b"{}")
    with Client(server.url) as client:
        stream = api.HistoryStream(client, T0, T0 + timedelta(days=1))
        with stream, pytest.raises(ExportError, match="expected a JSON list of runs"):
            list(stream)
    server.clear_faults()
    server.inject("non_json", times=None, path="/api/processes/")
    with Client(server.url) as client:
        stream = api.HistoryStream(client, T0, T0 + timedelta(days=1))
        with stream, pytest.raises(ExportError, match="expected JSON, got text/html"):
            list(stream)


def test_a_run_left_out_by_process_still_counts_for_its_problems():
    """The reference path reads every run before --process leaves some out, so an
    unreadable time in a left-out run is still a problem line."""
    good = {
        "process_id": "a",
        "process_definition_name": "kept",
        "start_time": "2026-01-10T00:00:00.000Z",
        "status": "succeeded",
        "task": [],
    }
    bad = dict(
        good,
        process_id="b",
        process_definition_name="left-out",
        task=[
            {
                "task_definition_name": "t",
                "start_time": "2026-02-30T00:00:00.000Z",
                "status": "failed",
            }
        ],
    )
    body = json.dumps([good, bad]).encode()
    records, problems = fast_or_reference(body, lambda name: name == "kept")
    assert (records, problems) == reference(body, lambda name: name == "kept")
    assert len(records) == 1 and len(problems) == 1 and "run b skipped" in problems[0]
