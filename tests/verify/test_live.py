"""Go live for real: the fixture estate converted, `migrate deploy`ed to an S3 bucket on a
moto server, served to a real Airflow 3.3 (api-server, dag-processor, scheduler, two
Celery workers; PostgreSQL metadata database, Redis broker) through
the amazon provider's S3DagBundle, with the support package installed by
`pip install -r requirements.txt` and no plugins folder; then `migrate verify` against
the api-server.  See tests/live_airflow.py for the set-up and its trade-offs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import ESTATE, ROOT
from tests.run.harness import MotoServer
from tests.support.venv import FreshVenv
from tests.live_airflow import (
    PASSWORD,
    LiveAirflow,
    aws_connection,
    distributed,
    s3_bundle,
)

pytestmark = pytest.mark.slow

BUCKET, PREFIX = "airflow-dags", "sundial/dags"


def migrate_cli(*args, env=None, cwd=None, timeout=180):
    """The CLI as a user runs it: a fresh process, outside the checkout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    base["PYTHONPATH"] = str(ROOT)  # this checkout's code (CI installs it: same thing)
    return subprocess.run(
        [sys.executable, "-m", "migrate.cli", *map(str, args)],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory, converted_estate):
    from tests.conftest import ESTATE_OUT

    base = tmp_path_factory.mktemp("live")
    out = base / "out"
    shutil.copytree(ESTATE_OUT, out)
    moto = MotoServer(base / "moto")
    airflow = None
    servers = contextlib.ExitStack()
    try:
        moto.client("s3").create_bucket(Bucket=BUCKET)
        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

        def deploy():
            proc = migrate_cli(
                "deploy",
                out,
                "--to",
                f"s3://{BUCKET}/{PREFIX}",
                "--endpoint-url",
                moto.endpoint,
                env=aws,
                cwd=base,
            )
            assert proc.returncode == 0, proc.stderr
            return proc

        first = deploy()
        entry = json.loads(first.stdout)[0]
        assert entry["kwargs"] == {
            "bucket_name": BUCKET,
            "prefix": PREFIX,
            "aws_conn_id": "aws_default",
        }
        started = time.monotonic()
        venv = FreshVenv(base / "venv")
        venv.install_requirements(out)  # what the README (and the Dockerfile) do
        airflow = LiveAirflow(
            base / "airflow",
            venv.python,
            bundle=s3_bundle(BUCKET, PREFIX),
            env=aws_connection(moto.endpoint),
            backend=servers.enter_context(distributed(base / "servers", workers=2)),
        )
        airflow.start()
        report = json.loads((out / "report" / "parity.json").read_text())
        dag_ids = {p["dag_id"] for p in report["processes"]}
        airflow.wait_for(
            lambda dags: dag_ids <= set(dags)
            and all(dags[d]["last_parsed_time"] for d in dag_ids),
            "the dag-processor to parse all 28 DAGs from the bundle",
        )
        airflow.ready_seconds = time.monotonic() - started
        yield {
            "out": out,
            "airflow": airflow,
            "deploy": deploy,
            "base": base,
            "moto": moto,
        }
    finally:
        if airflow is not None:
            airflow.stop()
        servers.close()
        moto.stop()


def verify(live, *extra, env=None):
    return migrate_cli(
        "verify",
        ESTATE,
        "--report",
        live["out"],
        "--airflow-url",
        live["airflow"].url,
        *extra,
        env=env,
        cwd=live["base"],
    )


LOGIN = ("--username", "admin", "--password-env", "AF_PASSWORD")


def test_the_deployed_estate_verifies_clean(live):
    proc = verify(live, *LOGIN, "--json", env={"AF_PASSWORD": PASSWORD})
    assert proc.stdout, proc.stderr
    result = json.loads(proc.stdout)
    bad = [
        (p["process"], p["airflow_next"], p["issues"])
        for p in result["processes"]
        if p["issues"]
    ]
    assert proc.returncode == 0, "\n".join(map(str, bad))
    assert result["ok"] and result["airflow_version"] == "3.3.2"
    assert len(result["processes"]) == 28
    assert all(p["status"] == "ok" for p in result["processes"])
    assert result["other_dags"] == [] and result["other_import_errors"] == []
    by_name = {p["process"]: p for p in result["processes"]}
    # Quartz-only schedules came through the package's entry point (no plugins folder)
    assert by_name["monthly-billing-close"]["airflow_schedule"].startswith("quartz: ")
    assert by_name["legacy-crm-sync"]["is_paused"] is True  # paused in Sundial
    # every DAG is deployed paused: nothing runs in both before its cutover
    assert all(p["is_paused"] is True for p in result["processes"])
    paused_in_sundial = {
        "legacy-crm-sync",
        "recommendations-model-refresh",
        "gdpr-erasure-requests",
    }
    live_in_sundial = [
        p for p in result["processes"] if p["process"] not in paused_in_sundial
    ]
    assert len(live_in_sundial) == 25
    assert all(
        any(n.startswith("not cut over yet") for n in p["notes"])
        for p in live_in_sundial
    )
    assert by_name["marketing-email-export"]["airflow_next"] == "none"  # manual only
    table = verify(live, *LOGIN, env={"AF_PASSWORD": PASSWORD})
    assert table.returncode == 0 and table.stdout.rstrip().endswith("ALL GOOD")
    assert PASSWORD not in table.stdout + table.stderr + proc.stderr


def test_cannot_log_in_is_exit_2(live):
    wrong = verify(live, *LOGIN, env={"AF_PASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.splitlines() == [
        f"error: cannot log in to {live['airflow'].url} as 'admin': 401 Invalid credentials"
    ]
    assert "not-the-password" not in wrong.stderr
    anonymous = verify(live)
    assert anonymous.returncode == 2
    assert "the API needs credentials" in anonymous.stderr
    token = live["airflow"].token()
    with_token = verify(live, "--token-env", "AF_TOKEN", env={"AF_TOKEN": token})
    assert with_token.returncode == 0, with_token.stdout[-3000:]
    assert token not in with_token.stdout + with_token.stderr


def test_edits_removals_breakage_and_foreign_files_are_named(live):
    """One round of changes, redeployed: an edited schedule, a removed DAG file, a DAG
    file that no longer imports, a DAG paused by hand, plus someone else's files in the
    bucket (a DAG and a broken file): each process's difference is one line naming it
    and its DAG; the foreign ones are listed without changing the exit code."""
    airflow, dags_dir = live["airflow"], live["out"] / "dags"
    dag = dags_dir / "orders-nightly-etl.py"
    text = dag.read_text()
    assert "CronTriggerTimetable(" in text and '"0 5 * * *"' in text
    dag.write_text(text.replace('"0 5 * * *"', '"17 5 * * *"'))
    (dags_dir / "sales_report_2.py").unlink()
    broken = dags_dir / "payroll-reconciliation.py"
    broken.write_text(
        broken.read_text() + "\nraise RuntimeError('broken on purpose')\n"
    )
    s3 = boto3_client(live)
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}/someone_else.py",
        Body=b"from airflow.sdk import DAG\n\ndag = DAG(dag_id='someone_else', schedule=None)\n",
    )
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}/not_ours_broken.py",
        Body=b"from airflow.sdk import DAG\nimport nope\n",
    )
    redeploy = live["deploy"]()
    assert "note: dags/orders-nightly-etl.py was edited" in redeploy.stderr
    assert "2 files were uploaded, 1 deleted, 25 unchanged, 2 not ours kept" in (
        redeploy.stderr
    )

    def settled(dags):
        errors = {e["filename"] for e in airflow.import_errors()}
        return (
            dags.get("orders-nightly-etl", {}).get("timetable_summary") == "17 5 * * *"
            and dags.get("sales_report_2", {}).get("is_stale")
            and "someone_else" in dags
            and {"payroll-reconciliation.py", "not_ours_broken.py"} <= errors
        )

    airflow.wait_for(settled, "the redeployed bundle to be parsed")
    answer = requests.patch(  # someone unpauses a DAG while Sundial still runs it
        f"{airflow.url}/api/v2/dags/inventory-forecast",
        json={"is_paused": False},
        headers={"Authorization": f"Bearer {airflow.token()}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    proc = verify(live, *LOGIN, env={"AF_PASSWORD": PASSWORD})
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    differences = proc.stdout.split("Differences:\n", 1)[1].splitlines()[:-1]
    assert len(differences) == 4, "\n".join(differences)
    expected = [
        (
            "inventory-forecast",
            "inventory-forecast",
            "paused differs: live in both Sundial and Airflow",
        ),
        (
            "orders-nightly-etl",
            "orders-nightly-etl",
            "next run differs: Airflow's " "next run ",
        ),
        (
            "payroll-reconciliation",
            "payroll-reconciliation",
            "import error: sundial:"
            "payroll-reconciliation.py: RuntimeError: broken on purpose",
        ),
        (
            "sales_report",
            "sales_report_2",
            "DAG missing: DAG 'sales_report_2' is stale",
        ),
    ]
    for line, (process, dag_id, start) in zip(differences, expected):
        assert line.startswith(f"- process {process!r}, DAG {dag_id!r}: {start}"), line
    assert "is not a fire time of the Sundial schedule" in differences[1]
    listed = proc.stdout.split("DAGs the report does not know (1):\n", 1)[1]
    assert listed.startswith("- someone_else (sundial: someone_else.py)")
    assert "- sundial:not_ours_broken.py: ModuleNotFoundError" in proc.stdout
    assert proc.stdout.rstrip().endswith("DIFFERENCES FOUND")


def boto3_client(live):
    import boto3

    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=live["moto"].endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
