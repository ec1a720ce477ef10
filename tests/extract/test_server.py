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
    assert requests.post(base + quote(name, safe="") + "/pause").status_code == 204
    assert requests.get(base + quote(name, safe="")).json()["paused"] is True
    assert requests.post(base + quote(name, safe="") + "/resume").status_code == 204
    assert requests.get(base + quote(name, safe="")).json()["paused"] is False
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
