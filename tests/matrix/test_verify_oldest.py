"""`migrate verify` against the oldest Airflow it writes for: the fixture estate converted
with ``--airflow-version 3.0`` and served, from a dags folder and the conversion's
plugins folder, by a real Airflow 3.0 (api-server, dag-processor, scheduler) from its
locked virtualenv.  The 3.0 REST API answers verify as 3.3's does: a clean estate is
exit 0, an edited schedule is exit 1 naming it, and a conversion written for another
Airflow than the one running says so."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ESTATE
from tests.live_airflow import PASSWORD, LiveAirflow
from tests.matrix.conftest import matrix_python
from tests.verify.test_live import LOGIN, migrate_cli

pytestmark = pytest.mark.slow

OLDEST = "3.0"


@pytest.fixture(scope="module")
def live_oldest(tmp_path_factory):
    from migrate.pipeline import convert

    base = tmp_path_factory.mktemp("verify-oldest")
    out = base / "out"
    result = convert([ESTATE], out, timezone="UTC", airflow_version=OLDEST)
    assert not result.problems
    dags = base / "dags"
    shutil.copytree(out / "dags", dags)
    airflow = LiveAirflow(
        base / "airflow",
        str(matrix_python(OLDEST)),
        dags_folder=dags,
        plugins_folder=out / "plugins",
    )
    try:
        airflow.start()
        dag_ids = {
            p["dag_id"]
            for p in json.loads((out / "report" / "parity.json").read_text())[
                "processes"
            ]
        }
        airflow.wait_for(
            lambda seen: dag_ids <= set(seen)
            and all(seen[d]["last_parsed_time"] for d in dag_ids),
            "Airflow 3.0's dag-processor to parse all 28 DAGs",
        )
        yield {"out": out, "dags": dags, "airflow": airflow, "base": base}
    finally:
        airflow.stop()


def _verify(live, report, *extra):
    return migrate_cli(
        "verify",
        ESTATE,
        "--report",
        report,
        "--airflow-url",
        live["airflow"].url,
        *LOGIN,
        *extra,
        env={"AF_PASSWORD": PASSWORD},
        cwd=live["base"],
    )


def test_verify_on_airflow_3_0(live_oldest, tmp_path):
    live = live_oldest
    clean = _verify(live, live["out"], "--json")
    assert clean.stdout, clean.stderr
    result = json.loads(clean.stdout)
    bad = [(p["process"], p["issues"]) for p in result["processes"] if p["issues"]]
    assert clean.returncode == 0, bad
    assert result["airflow_version"].startswith("3.0.")
    assert result["target"] == "3.0" and result["target_issue"] is None
    assert len(result["processes"]) == 28
    by_name = {p["process"]: p for p in result["processes"]}
    assert by_name["monthly-billing-close"]["airflow_schedule"].startswith("quartz: ")
    assert by_name["legacy-crm-sync"]["is_paused"] is True

    # the same DAGs, but the report says they were written for 3.3
    other = tmp_path / "written-for-3.3"
    shutil.copytree(live["out"] / "report", other / "report")
    parity = other / "report" / "parity.json"
    parity.write_text(
        parity.read_text().replace('"version": "3.0"', '"version": "3.3"', 1)
    )
    mismatch = _verify(live, other)
    assert mismatch.returncode == 1, mismatch.stdout[-3000:]
    (line,) = [l for l in mismatch.stdout.splitlines() if "Airflow version" in l]
    assert "3.3" in line and result["airflow_version"] in line
    assert "--airflow-version 3.0" in line

    # an edited schedule is a difference on 3.0 as on 3.3
    dag = live["dags"] / "orders-nightly-etl.py"
    dag.write_text(dag.read_text().replace('"0 5 * * *"', '"17 5 * * *"'))
    live["airflow"].wait_for(
        lambda seen: seen["orders-nightly-etl"]["timetable_summary"] == "17 5 * * *",
        "the edited DAG to be parsed again",
    )
    edited = _verify(live, live["out"])
    assert edited.returncode == 1, edited.stdout[-3000:]
    differences = edited.stdout.split("Differences:\n", 1)[1].splitlines()[:-1]
    assert len(differences) == 1, differences
    assert differences[0].startswith(
        "- process 'orders-nightly-etl', DAG 'orders-nightly-etl': next run differs"
    )
