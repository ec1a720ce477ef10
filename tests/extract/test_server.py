"""The fixture Sundial server's endpoints and options."""

from __future__ import annotations

from urllib.parse import quote

import requests

from fixtures.server import FixtureServer, synthetic_estate
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from tests.extract.conftest import NOW

ALL = ["running", "succeeded", "failed"]


def test_definition_endpoints(server):
    base = server.url + "/api/process_definitions/"
    name = "finance/daily close"
    one = requests.get(base + quote(name, safe=""))
    assert one.status_code == 200 and one.json()["process_definition_name"] == name
    assert requests.get(base + "nope").status_code == 404
    # as Sundial: 200 with an empty body; 500 for a name it does not have
    paused = requests.post(base + quote(name, safe="") + "/pause")
    assert (paused.status_code, paused.content) == (200, b"")
    assert requests.get(base + quote(name, safe="")).json()["paused"] is True
    assert requests.post(base + quote(name, safe="") + "/resume").status_code == 200
    assert requests.get(base + quote(name, safe="")).json()["paused"] is False
    assert requests.post(base + "nope/pause").status_code == 500
    defn = one.json()
    defn["process_description"] = "changed"
    put = requests.put(base + "new-one", json=defn)
    assert put.status_code == 200 and put.json()["process_definition_name"] == "new-one"
    assert len(requests.get(base).json()) == 29
    assert requests.delete(base + "new-one").status_code == 204
    assert requests.delete(base + "new-one").status_code == 404
    assert len(requests.get(base).json()) == 28


def test_processes_filters(server):
    url = server.url + "/api/processes/"
    assert requests.get(url).status_code == 400  # allowed_statuses is required
    everything = requests.get(url, params={"allowed_statuses": ALL}).json()
    failed = requests.get(url, params={"allowed_statuses": "failed"}).json()
    assert failed and {r["status"] for r in failed} == {"failed"}
    assert len(failed) < len(everything)
    limited = requests.get(
        url, params={"allowed_statuses": ALL, "max_records": 5}
    ).json()
    assert limited == everything[:5]  # most recent first
    one = requests.get(
        url,
        params={
            "allowed_statuses": ALL,
            "process_definition_name": "orders-nightly-etl",
        },
    ).json()
    assert one and {r["process_definition_name"] for r in one} == {"orders-nightly-etl"}
    window = requests.get(
        url,
        params={
            "allowed_statuses": ALL,
            "start_time": "2026-01-10T00:00:00Z",
            "end_time": "2026-01-11T00:00:00Z",
        },
    ).json()
    assert window and all(
        "2026-01-10T00:00:00" <= r["start_time"] < "2026-01-11T00:00:00" for r in window
    )


def test_buggy_dependencies_only_when_asked(server):
    from migrate.extract.stored_form import doubled_dependencies

    def served(base):
        return requests.get(base + "/api/process_definitions/").json()

    assert not any(doubled_dependencies(d) for d in served(server.url))
    with FixtureServer(now=NOW, history_days=1, buggy_dependencies=True) as buggy:
        listed = served(buggy.url)
    defn = next(
        d for d in listed if d["process_definition_name"] == "regional-sales-loads"
    )
    for task in defn["task_definitions"]:
        required = [d for d in task["dependencies"] if d["success_required"]]
        assert len(task["dependencies"]) == 2 * len(required)
    assert doubled_dependencies(defn)


def test_synthetic_estate_is_valid_and_seeded():
    estate = synthetic_estate(60, seed=3)
    assert estate == synthetic_estate(60, seed=3)
    assert estate != synthetic_estate(60, seed=4)
    for defn in estate:
        parsed = read_process(defn, SourceRef("synthetic"))
        assert not isinstance(parsed, list), [str(p) for p in parsed]


def test_main_entry_prints_the_url():
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "fixtures.server", "--history-days", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert len(requests.get(url + "/api/process_definitions/").json()) == 28
    finally:
        proc.terminate()
        proc.wait(10)


def test_processes_body_is_exactly_the_runs_as_json(server):
    """The server builds /api/processes bodies directly (its hot path); they are byte for
    byte ``json.dumps`` of ``Run.api()``, most recent first, ``max_records`` kept."""
    import json

    params = {
        "allowed_statuses": ALL,
        "start_time": "2026-01-09T07:00:00.000Z",
        "end_time": "2026-01-11T00:00:00.000Z",
        "max_records": 40,
    }
    body = requests.get(server.url + "/api/processes/", params=params).content
    from datetime import datetime

    runs = list(
        server.history.runs(
            datetime.fromisoformat("2026-01-09T07:00:00+00:00"),
            datetime.fromisoformat("2026-01-11T00:00:00+00:00"),
        )
    )
    runs.sort(key=lambda r: (r.start, r.process_id), reverse=True)
    expected = json.dumps([r.api() for r in runs[:40]], ensure_ascii=False)
    assert body == expected.encode("utf-8")


def test_history_json_matches_the_dataclasses():
    import json
    import uuid
    from datetime import datetime, timezone

    from fixtures.server import History
    from fixtures.server.history import _uuid4, iso, iso_epoch, run_json

    estate = synthetic_estate(80, seed=5) + [
        {
            "process_definition_name": 'odd "näme"\n\u2028',
            "task_definitions": [{"task_definition_name": "t\\1"}],
        }
    ]
    history = History(estate, NOW, 20, runs_per_day=3.0, seed=2)
    raw = list(history.raw_runs())
    assert len(raw) > 1000
    for run, one in zip(history.runs(), raw):
        assert run_json(one) == json.dumps(run.api(), ensure_ascii=False)
    for digest in (bytes(16), bytes([255]) * 16, uuid.uuid4().bytes):
        assert _uuid4(digest) == str(uuid.UUID(bytes=digest, version=4))
    for epoch in (0, 86399, 86400, 1768478400, 4102444799):
        assert iso_epoch(epoch) == iso(datetime.fromtimestamp(epoch, timezone.utc))


def test_runs_in_progress_trigger_and_kill(server):
    """A run by hand is in progress for trigger_seconds; a kill request ends a run
    kill_seconds later, failed (asynchronously, as Sundial's scheduler does)."""
    import time

    server.trigger_seconds, server.kill_seconds = 30.0, 0.5
    name = "orders-nightly-etl"
    base = server.url + "/api/"
    assert (
        requests.post(base + f"process_definitions/{name}/trigger").status_code == 201
    )
    query = {
        "process_definition_name": name,
        "allowed_statuses": "running",
        "start_time": "2000-01-01T00:00:00Z",
        "end_time": "2100-01-01T00:00:00Z",
    }
    live = [r for r in requests.get(base + "processes/", params=query).json()
            if r["process_id"].startswith("00000000-")]  # fmt: skip
    assert len(live) == 1 and live[0]["status"] == "running"
    pid = live[0]["process_id"]
    assert requests.post(base + f"processes/{pid}/kill").status_code == 201
    assert any(
        r["process_id"] == pid
        for r in requests.get(base + "processes/", params=query).json()
    )  # still running: the kill is carried out later
    time.sleep(0.7)
    query["allowed_statuses"] = "failed"
    assert pid in {
        r["process_id"] for r in requests.get(base + "processes/", params=query).json()
    }
    assert requests.post(base + "processes/no-such-run/kill").status_code == 404
