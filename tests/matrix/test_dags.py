"""The generated DAGs on every Airflow they are written for (3.0, 3.1, 3.2, 3.3), each in
its own virtualenv with that Airflow and the providers locks/ pins: the fixture estate
and a seeded synthetic estate converted with ``--airflow-version`` load with no import
error, serialize as the DAG processor does, and the first 200 runs of every DAG's real
timetable, read back as the scheduler reads it, are the Quartz engine's fire times."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from migrate.quartz import QuartzCron
from migrate.sundial.load import load_sources
from migrate.sundial.model import ContinuousSchedule, CronSchedule
from migrate.target import MINORS, TARGETS
from tests.conftest import ESTATE
from tests.matrix.conftest import probe

pytestmark = pytest.mark.slow

RUNS = 200
START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=timezone.utc)  # not a fire time of any


def _synthetic(folder: Path) -> Path:
    from fixtures.synthetic import generate, write

    write(folder, generate(150, seed=18))
    return folder


ESTATES = {  # name -> (sources, zone Sundial's JVM ran in)
    "fixture": (lambda tmp: ESTATE, "UTC"),
    "synthetic": (_synthetic, "America/New_York"),
}


@pytest.fixture(
    scope="module",
    params=[(m, e) for m in MINORS for e in ESTATES],
    ids=[f"airflow-{m}-{e}" for m in MINORS for e in ESTATES],
)
def converted(request, tmp_path_factory):
    from migrate.pipeline import convert

    minor, estate = request.param
    make, zone = ESTATES[estate]
    tmp = tmp_path_factory.mktemp(f"matrix-{minor}-{estate}")
    sources = make(tmp / "estate")
    out = tmp / "out"
    result = convert([sources], out, timezone=zone, airflow_version=minor)
    assert not result.problems, [str(p) for p in result.problems]
    parity = json.loads((out / "report" / "parity.json").read_text())
    processes = {p.name: p for p in load_sources([sources]).processes}
    seen = probe(minor, out / "dags", out / "plugins", START.isoformat(), RUNS)
    return minor, zone, out, parity, processes, seen


def quartz_runs(schedule: CronSchedule, zone: str, count: int) -> list[int]:
    engine = QuartzCron.parse_expression(schedule.quartz_expression())
    out, ms = [], int(START.timestamp() * 1000)
    while len(out) < count:
        ms = engine.next_fire_after_ms(ms, zone)
        if ms is None:
            break
        out.append(ms)
    return out


def test_every_dag_loads_and_serializes(converted):
    minor, _, out, parity, _, seen = converted
    assert seen["airflow"] == TARGETS[minor].airflow
    assert seen["import_errors"] == {}
    expected = {p["dag_id"] for p in parity["processes"]}
    assert set(seen["dags"]) == expected and len(expected) == len(
        list((out / "dags").glob("*.py"))
    )


def test_first_runs_are_the_quartz_fire_times(converted):
    _, zone, _, parity, processes, seen = converted
    compared = 0
    for entry in parity["processes"]:
        process = processes[entry["process"]]
        dag = seen["dags"][entry["dag_id"]]
        schedule = process.schedule
        if isinstance(schedule, CronSchedule):
            assert dag["runs"] == quartz_runs(schedule, zone, RUNS), (
                entry["process"],
                dag["timetable"],
                dag["summary"],
            )
            compared += len(dag["runs"])
        elif isinstance(schedule, ContinuousSchedule) and schedule.buffer_seconds:
            step = schedule.buffer_seconds * 1000
            first = int(START.timestamp() * 1000)
            assert dag["runs"] == [first + i * step for i in range(RUNS)], entry
        elif isinstance(schedule, ContinuousSchedule):
            assert dag["timetable"] == "ContinuousTimetable", entry
        else:
            assert dag["runs"] == [] and dag["timetable"] == "NullTimetable", entry
        # the scheduler's own first step starts every scheduled DAG
        assert dag["first_run_planned"] is (schedule is not None), entry
    assert compared >= RUNS * 5  # the estates have many cron schedules


def test_backoff_below_3_3_is_waited_by_the_operator(converted):
    """Below 3.3 no DAG file names RetryPolicy; the exponential backoffs are there as
    the operator's own wait, with the shortest of Sundial's delays as retry_delay."""
    minor, _, out, _, _, _ = converted
    texts = [p.read_text() for p in (out / "dags").glob("*.py")]
    with_policy = sum("retry_policy=SundialBackoff(" in t for t in texts)
    with_wait = sum("sundial_backoff={" in t for t in texts)
    if TARGETS[minor].retry_policy:
        assert with_policy and not with_wait
    else:
        assert with_wait and not with_policy
        assert not any("sundial_compat.retry" in t for t in texts)
