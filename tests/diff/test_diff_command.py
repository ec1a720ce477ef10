"""`migrate diff` through click: parity, a hand-edited schedule, missing and extra DAGs,
a paused mismatch, run history with a late run and a manual trigger, bad input."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from migrate.diff.command import diff_command
from tests.conftest import ESTATE

START = "2026-01-01T00:00Z"


def run(*args):
    result = CliRunner().invoke(diff_command, [str(a) for a in args])
    return result.exit_code, result.output


def diff(out, *extra):
    return run(ESTATE, "--dags", out / "dags", "--start", START, *extra)


def test_untouched_conversion_is_at_parity(estate_copy):
    code, output = diff(estate_copy)
    assert code == 0, output
    assert "PARITY" in output and "parity: 28" in output


def test_untouched_conversions_in_dst_zones_are_at_parity(converted_zones):
    for tz in ("America/New_York", "Australia/Lord_Howe"):
        code, output = run(
            ESTATE, "--dags", converted_zones[tz] / "dags", "--start", START, "--json"
        )
        report = json.loads(output)
        assert code == 0, [p for p in report["processes"] if p["issues"]]
        assert report["timezone"] == tz  # taken from report/parity.json


def test_hand_edited_schedule_names_the_process_and_first_differing_instants(
    estate_copy,
):
    dag = estate_copy / "dags" / "orders-nightly-etl.py"
    text = dag.read_text(encoding="utf-8")
    assert "CronTriggerTimetable(" in text and '"0 5 * * *"' in text
    dag.write_text(text.replace('"0 5 * * *"', '"0 6 * * *"'), encoding="utf-8")
    code, output = diff(estate_copy)
    assert code == 1
    assert "orders-nightly-etl" in output and "schedule differs" in output
    assert "Sundial 2026-01-01T05:00+00:00" in output
    assert "Airflow 2026-01-01T06:00+00:00" in output
    code, output = diff(estate_copy, "--json")
    report = json.loads(output)
    (entry,) = [p for p in report["processes"] if p["status"] != "parity"]
    assert entry["process"] == "orders-nightly-etl"
    assert entry["issues"][0]["first_differences"][0] == {
        "sundial": "2026-01-01T05:00+00:00",
        "airflow": "2026-01-01T06:00+00:00",
    }
    assert entry["issues"][0]["differing_instants"] == 365


def test_missing_dag(estate_copy):
    (estate_copy / "dags" / "inventory-forecast.py").unlink()
    code, output = diff(estate_copy, "--json")
    assert code == 1
    (entry,) = [p for p in json.loads(output)["processes"] if p["status"] != "parity"]
    assert entry["process"] == "inventory-forecast"
    assert entry["status"] == "DAG missing"


def test_extra_dag_without_a_sundial_process(estate_copy):
    src = estate_copy / "dags" / "inventory-forecast.py"
    text = src.read_text(encoding="utf-8").replace(
        'dag_id="inventory-forecast"', 'dag_id="hand-written-extra"'
    )
    assert "hand-written-extra" in text
    (estate_copy / "dags" / "hand_written_extra.py").write_text(text, encoding="utf-8")
    code, output = diff(estate_copy)
    assert code == 1
    assert "hand-written-extra" in output and "no Sundial process" in output


def test_paused_mismatch(estate_copy):
    dag = estate_copy / "dags" / "legacy-crm-sync.py"
    text = dag.read_text(encoding="utf-8")
    assert "is_paused_upon_creation=True" in text
    dag.write_text(
        text.replace("is_paused_upon_creation=True", "is_paused_upon_creation=False"),
        encoding="utf-8",
    )
    code, output = diff(estate_copy)
    assert code == 1
    assert "legacy-crm-sync" in output and "paused differs" in output


def test_unregistered_timetable_is_reported(estate_copy):
    shutil.rmtree(estate_copy / "plugins" / "sundial_compat" / "quartz", True)
    (estate_copy / "plugins" / "sundial_compat" / "sundial_compat_plugin.py").unlink()
    code, output = diff(estate_copy, "--json")
    assert code == 1
    bad = {
        p["process"]
        for p in json.loads(output)["processes"]
        if p["status"] == "timetable not registered"
    }
    assert bad == {
        "payroll-reconciliation",
        "monthly-billing-close",
        "recommendations-model-refresh",
    }


def _history(tmp_path, runs):
    export = tmp_path / "export"
    (export / "history").mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "process_id": f"id-{n}",
                "process_definition_name": name,
                "start_time": start,
                "end_time": None,
                "status": "succeeded",
                "tasks": [],
            }
        )
        for n, (name, start) in enumerate(runs)
    ]
    (export / "history" / "processes.jsonl").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    return export


def test_history_tells_late_runs_and_manual_triggers_apart(estate_copy, tmp_path):
    # orders-nightly-etl fires daily at 05:00 UTC; Sundial polled every ~10 s
    name = "orders-nightly-etl"
    export = _history(
        tmp_path,
        [
            (name, "2026-03-01T05:00:04.120Z"),
            (name, "2026-03-02T05:00:09.000Z"),
            (name, "2026-03-04T07:41:00.000Z"),  # down Mar 3-4: ONE late run
            (name, "2026-03-04T15:30:00.000Z"),  # triggered by hand
            (name, "2026-03-05T05:00:02.500Z"),
            ("inventory-snapshot-15min", "2026-03-05T06:15:03.000Z"),
        ],
    )
    code, output = diff(estate_copy, "--history", export, "--json")
    assert code == 0, output
    entry = next(p for p in json.loads(output)["processes"] if p["process"] == name)
    history = entry["history"]
    assert history["runs"] == 5 and history["on_time"] == 3
    assert history["late"] == [
        {
            "run_start": "2026-03-04T07:41+00:00",
            "fire": "2026-03-04T05:00+00:00",
            "late_by_seconds": 9660,
        }
    ]
    assert history["manual"] == ["2026-03-04T15:30+00:00"]
    assert history["skipped_fires"] >= 1  # Mar 3 05:00 was never run (no back-fill)
    assert history["scheduled_runs_airflow_lacks"] == []
    code, table = diff(estate_copy, "--history", export)
    assert "orders-nightly-etl: history: 5 runs, 3 on time, 1 late, 1 manual" in table


def test_history_against_an_edited_schedule_differs(estate_copy, tmp_path):
    dag = estate_copy / "dags" / "orders-nightly-etl.py"
    dag.write_text(
        dag.read_text(encoding="utf-8").replace('"0 5 * * *"', '"0 6 * * *"'),
        encoding="utf-8",
    )
    export = _history(tmp_path, [("orders-nightly-etl", "2026-03-01T05:00:04Z")])
    code, output = diff(estate_copy, "--history", export, "--json")
    assert code == 1
    entry = next(
        p
        for p in json.loads(output)["processes"]
        if p["process"] == "orders-nightly-etl"
    )
    assert entry["history"]["scheduled_runs_airflow_lacks"] == [
        "2026-03-01T05:00+00:00"
    ]


def test_bad_input_is_one_line_and_exit_2(estate_copy, tmp_path):
    for args in (
        [tmp_path / "nope", "--dags", estate_copy / "dags"],
        [ESTATE, "--dags", tmp_path / "nope"],
        [ESTATE, "--dags", estate_copy / "dags", "--timezone", "Mars/Base"],
        [ESTATE, "--dags", estate_copy / "dags", "--start", "yesterday"],
        [ESTATE, "--dags", estate_copy / "dags", "--history", tmp_path],
    ):
        code, output = run(*args)
        assert code == 2, (args, output)
        assert output.startswith("error: ") and output.count("\n") == 1, output


def test_the_targets_scheduler_rules_hold(tmp_path):
    """DAGs converted for Airflow 3.0 are held to 3.0's scheduler: its @continuous
    timetable starts no DAG without a start_date (3.2 and later do), so the 3.0 DAG
    without one differs, with it is at parity; the header names both Airflows."""
    from importlib.metadata import version

    from migrate.pipeline import convert

    out = tmp_path / "out"
    convert([ESTATE], out, timezone="UTC", airflow_version="3.0")
    code, output = diff(out, "--json")
    report = json.loads(output)
    assert code == 0, [p for p in report["processes"] if p["issues"]]
    assert report["airflow"] == {
        "written_for": "3.0",
        "stepped_with": version("apache-airflow"),
    }
    dag = out / "dags" / "partner-feed-ingest.py"
    text = dag.read_text()
    assert '    start_date=datetime(2000, 1, 1, tz="UTC"),\n' in text
    dag.write_text(text.replace('    start_date=datetime(2000, 1, 1, tz="UTC"),\n', ""))
    code, output = diff(out)
    assert code == 1, output
    assert (
        "- partner-feed-ingest: schedule differs: Airflow 3.0 (the DAGs' target) "
        "starts no run of an @continuous DAG without a start_date" in output
    )
    assert "DAGs written for Airflow 3.0, timetables stepped with Airflow 3.3" in output
    assert "parity: 27" in output


def test_a_year_field_is_kept_and_a_horizon_without_fires_proves_nothing(tmp_path):
    """A Quartz year in day_of_week: the DAG fires in those years only (diff at parity
    around the range's end), the report does not call a proof of 0 fire times exact, and
    diff over a horizon with no fire time on either side says nothing was compared."""
    from migrate.pipeline import convert
    from migrate.report import read_parity

    source = tmp_path / "source"
    source.mkdir()
    definition = json.loads(
        (ESTATE / "2019-07" / "regional_sales_loads.json").read_text(encoding="utf-8")
    )
    years = dict(definition, process_definition_name="until-2027")
    years["schedule"] = {
        "cron_schedule": dict(
            definition["schedule"]["cron_schedule"], day_of_week="MON-FRI 2026-2027"
        )
    }
    far = dict(years, process_definition_name="in-2099")
    far["schedule"] = {
        "cron_schedule": dict(years["schedule"]["cron_schedule"], day_of_week="* 2099")
    }
    for d in (years, far):
        (source / f"{d['process_definition_name']}.json").write_text(json.dumps(d))
    out = tmp_path / "out"
    convert([source], out, timezone="UTC")
    report = read_parity(out / "report" / "parity.json")
    schedule = {  # the findings that are not exact
        p["process"]: [
            f for f in p["findings"] if f["field"] == "schedule.cron_schedule"
        ]
        for p in report["processes"]
    }
    assert schedule["until-2027"] == []
    (far_finding,) = schedule["in-2099"]
    assert far_finding["severity"] == "approximated"
    assert "nothing was compared" in far_finding["message"]
    assert "2099-01-01 06:00 UTC" in far_finding["message"]
    for name in ("until-2027", "in-2099"):
        assert "QuartzTimetable(" in (out / "dags" / f"{name}.py").read_text()

    def diff_at(start, *extra):
        return run(source, "--dags", out / "dags", "--start", start, "--json", *extra)

    code, output = diff_at("2027-12-01T00:00Z", "--horizon", "60")
    entries = {p["process"]: p for p in json.loads(output)["processes"]}
    assert entries["until-2027"]["status"] == "parity"  # December 2027, then no more
    assert entries["in-2099"]["status"] == "nothing compared"
    assert code == 1
    code, output = diff_at("2028-01-01T00:00Z", "--horizon", "30")
    entries = {p["process"]: p for p in json.loads(output)["processes"]}
    assert entries["until-2027"]["status"] == "nothing compared"
    code, output = diff_at("2098-12-30T00:00Z", "--horizon", "5")
    entries = {p["process"]: p for p in json.loads(output)["processes"]}
    assert entries["in-2099"]["status"] == "parity"


def test_a_dag_that_would_start_live_is_named(estate_copy):
    """The DAGs are converted to be created paused until their cutover: one edited to
    start live while Sundial still runs its process would run in both."""
    dag = estate_copy / "dags" / "orders-nightly-etl.py"
    text = dag.read_text(encoding="utf-8")
    dag.write_text(
        text.replace("is_paused_upon_creation=True", "is_paused_upon_creation=False"),
        encoding="utf-8",
    )
    code, output = diff(estate_copy)
    assert code == 1
    assert (
        "- orders-nightly-etl: paused differs: the DAGs were converted to be created "
        "paused until their cutover, but the DAG has is_paused_upon_creation=False: "
        "deploying it would run it in both"
    ) in output
