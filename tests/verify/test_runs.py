"""The rules of `migrate verify --runs` over DAG runs as Airflow's REST v2 lists them:
one scheduled run per Quartz fire, Sundial's continuous period, max_attempts and the
outcome rule.  (tests/verify/test_runs_live.py holds them to a real Airflow's runs.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from migrate.verify.runs import check_runs, quartz_fires

UTC = timezone.utc
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
TZ = "America/New_York"  # 2026-03-08: DST starts
ZONE = ZoneInfo(TZ)


def process(schedule: dict, tasks=("a",), optional=()):
    data = {
        "process_definition_name": "p",
        "schedule": schedule,
        "task_definitions": [
            {
                "task_definition_name": name,
                "dependencies": [
                    {"task_definition_name": up, "success_required": False}
                    for up in optional
                    if up != name and name == tasks[-1]
                ],
                "executable": {"shell_script_command": {"script": "true"}},
                "max_attempts": 2,
                "backoff_base_seconds": 0,
            }
            for name in tasks
        ],
    }
    found = read_process(data, SourceRef("p.json"))
    assert not isinstance(found, list), found
    return found


def cron(minutes="0", hours="*/6"):
    return {
        "cron_schedule": {
            "minutes": minutes,
            "hours": hours,
            "day_of_month": "*",
            "month": "*",
            "day_of_week": "?",
        }
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Runs:
    """DAG runs and their task instances, shaped as Airflow's REST v2 answers them."""

    def __init__(self, runs, instances=None):
        self.runs = runs
        self.instances = instances or {}

    def dag_runs(self, dag_id, since):
        return [r for r in self.runs if r["run_after"] >= iso(since)]

    def task_instances(self, dag_id, run_id):
        return self.instances.get(run_id, [])


def run(at: datetime, state="success", start=None, end=None, kind="scheduled"):
    start = start or at
    return {
        "dag_run_id": f"scheduled__{iso(at)}",
        "run_type": kind,
        "run_after": iso(at),
        "state": state,
        "start_date": iso(start),
        "end_date": iso(end or start + timedelta(seconds=10)) if end != "" else None,
    }


def differences(proc, runs, now, instances=None):
    return check_runs(
        Runs(runs, instances), proc, "p", {"a": "a", "b": "b"}, SINCE, now, TZ
    )


NOW = SINCE + timedelta(days=14)
SIX_HOURLY = process(cron())
FIRES = quartz_fires(SIX_HOURLY.schedule, TZ, SINCE, NOW)


def test_one_run_per_fire_across_dst_is_no_difference():
    # New York's 6-hourly fires are 5 h apart in UTC around 2026-03-08
    assert {b - a for a, b in zip(FIRES, FIRES[1:])} == {
        timedelta(hours=6),
        timedelta(hours=5),
    }
    check, problems = differences(SIX_HOURLY, [run(f) for f in FIRES], NOW)
    assert problems == []
    assert check.fires == check.scheduled == len(FIRES) == 56


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(0, len(FIRES) - 1), max_size=4),
    st.sets(st.integers(0, len(FIRES) - 1), max_size=4),
    st.sets(st.integers(0, len(FIRES) - 1), max_size=4),
)
def test_each_missed_doubled_or_off_fire_run_is_named(missing, twice, shifted):
    runs = []
    for i, fire in enumerate(FIRES):
        if i in shifted:
            runs.append(run(fire + timedelta(minutes=1)))
        if i in missing:
            continue
        runs.append(run(fire))
        if i in twice:
            runs.append(run(fire) | {"dag_run_id": f"again{i}"})
    _, problems = differences(SIX_HOURLY, runs, NOW)
    text = "\n".join(problems)
    lines = {p.split(" 2026")[0] for p in problems}
    expected = set()
    if missing:
        expected.add("no DAG run for the fire at")
    if twice - missing:
        expected.add("more than one scheduled run for the fire at")
    if shifted:
        expected.add("a scheduled run at a time that is not a fire:")
    assert lines == expected, text
    named = sorted(missing)[:5]
    for i in named:  # shown in the process's zone
        assert FIRES[i].astimezone(ZONE).isoformat(timespec="seconds") in text


def test_manual_runs_and_fires_of_the_last_minute_are_not_required():
    last = FIRES[-1]
    runs = [run(f) for f in FIRES[:-1]] + [run(last, kind="manual")]
    _, problems = differences(SIX_HOURLY, runs, last + timedelta(seconds=30))
    assert problems == []
    _, problems = differences(SIX_HOURLY, runs, last + timedelta(minutes=5))
    assert problems == ["no DAG run for the fire at 2026-03-14T18:00:00-04:00"]


def test_a_run_that_succeeded_while_a_task_failed_breaks_the_outcome_rule():
    proc = process(cron(), tasks=("a", "b"), optional=("a",))
    fires = FIRES[:3]
    runs = [run(f) for f in fires]
    runs[1]["state"] = "success"
    runs[2]["state"] = "failed"

    def tis(a, b):
        return [
            {"task_id": "a", "state": a, "try_number": 1},
            {"task_id": "b", "state": b, "try_number": 1},
            {"task_id": "sundial_run_outcome", "state": "failed", "try_number": 1},
        ]

    instances = {
        runs[0]["dag_run_id"]: tis("success", "success"),
        runs[1]["dag_run_id"]: tis("failed", "success"),  # B only needed A to finish
        runs[2]["dag_run_id"]: tis("success", "success"),
    }
    check, problems = differences(proc, runs, fires[-1], instances)
    (outcome,) = problems
    assert outcome.startswith("outcome differs from Sundial's rule")
    assert "the run of 2026-03-01T06:00:00-05:00 succeeded, but a failed" in outcome
    assert (
        "the run of 2026-03-01T12:00:00-05:00 failed, but every Sundial task succeeded"
        in outcome
    )
    assert check.finished == 3 and check.checked_tasks == 6


def test_a_failed_run_with_a_failed_task_and_runs_in_progress_are_as_sundial():
    proc = process(cron(), tasks=("a", "b"))
    fires = FIRES[:2]
    runs = [run(fires[0], state="failed"), run(fires[1], state="running", end="")]
    instances = {
        runs[0]["dag_run_id"]: [
            {"task_id": "a", "state": "failed", "try_number": 2},
            {"task_id": "b", "state": "upstream_failed", "try_number": 0},
        ],
        runs[1]["dag_run_id"]: [{"task_id": "a", "state": "running", "try_number": 3}],
    }
    check, problems = differences(proc, runs, fires[-1], instances)
    assert problems == [
        "more attempts than max_attempts: a in the run of 2026-03-01T06:00:00-05:00: "
        "3 tries, Sundial allows 2"
    ]
    assert check.finished == 1


def continuous(buffer):
    return process({"continuous_schedule": {"buffer_seconds": buffer}})


def test_continuous_runs_follow_sundials_period():
    proc = continuous(60)
    t = SINCE + timedelta(seconds=1)
    runs = [
        run(t, start=t, end=t + timedelta(seconds=20)),
        # 62 s after the previous start: the scheduler's own delay
        run(t + timedelta(seconds=62), end=t + timedelta(seconds=200)),
        # the previous run took 138 s: Sundial started this one at its end
        run(t + timedelta(seconds=201), end=t + timedelta(seconds=210)),
    ]
    check, problems = differences(proc, runs, t + timedelta(seconds=280))
    assert problems == [] and check.fires == 3
    # no run since, while the next one was due at 261 s
    _, problems = differences(proc, runs, t + timedelta(seconds=400))
    assert problems == [
        "no run since 2026-02-28T19:04:22-05:00, when Sundial would have started the "
        "next one"
    ]


def test_continuous_runs_too_early_or_too_late_are_named():
    proc = continuous(60)
    t = SINCE + timedelta(seconds=1)
    runs = [
        run(t, end=t + timedelta(seconds=100)),
        # Airflow's timedelta grid: the 60 s run, due while the first one ran, starts
        # at its end; the 120 s one then starts only 20 s after it (Sundial: 60 s)
        run(t + timedelta(seconds=60), start=t + timedelta(seconds=100)),
        run(t + timedelta(seconds=120), end=t + timedelta(seconds=130)),
        run(t + timedelta(seconds=400), end="", state="running"),
    ]
    _, problems = differences(proc, runs, t + timedelta(seconds=1000))
    assert len(problems) == 2, problems
    assert problems[0].startswith(
        "a run started before Sundial's period (60 s after the previous start, or at "
        "its end) allowed: 2026-02-28T19:02:01-05:00 (40 s before Sundial's "
        "2026-02-28T19:02:41-05:00)"
    )
    assert problems[1].startswith(
        "a run started later than Sundial would have: 2026-02-28T19:06:41-05:00"
    )


def test_continuous_without_buffer_starts_when_the_previous_run_ends():
    proc = continuous(0)
    t = SINCE + timedelta(seconds=1)
    runs = [
        run(t, end=t + timedelta(seconds=30)),
        run(t + timedelta(seconds=31), end=t + timedelta(seconds=40)),
        run(t + timedelta(seconds=5), start=t + timedelta(seconds=5)),
    ]
    runs.sort(key=lambda r: r["run_after"])
    _, problems = differences(proc, runs, t + timedelta(seconds=45))
    # the run at 5 s overlaps the first one: Sundial never starts a run while one runs
    assert len(problems) == 1 and problems[0].startswith(
        "a run started before Sundial's period"
    ), problems
