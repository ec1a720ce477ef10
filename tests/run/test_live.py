"""The generated DAGs in a running Airflow shaped as production runs it: a PostgreSQL
metadata database, the CeleryExecutor on Redis with two workers, scheduler,
dag-processor, triggerer and api-server on 127.0.0.1.

Two things only a running Airflow shows:
- deferred AWS waits run in the triggerer (no worker slot held) and an attempt past
  ``max_runtime_seconds`` stops its job there too;
- the notifications are the DAG's callbacks, which the dag-processor runs once a run has
  ended: email per notify_when through a real SMTP server (aiosmtpd), PagerDuty events to
  a local HTTP sink after ``num_consecutive_failures`` failed runs, over seven
  consecutive runs.  Expectations: Sundial's rules (tests/run/sundial_rules.py).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time

import pytest

from tests.live_airflow import LiveAirflow, aws_connection, distributed
from tests.run.harness import RUN_FIXTURES, convert_run_fixtures
from tests.run.sinks import PagerDutySink, SmtpSink
from tests.run.sundial_rules import email_recipients, load_processes, pages

pytestmark = pytest.mark.slow

NOTIFY = load_processes(RUN_FIXTURES / "run_notifications.json")["run-notify"]
SNS_TOPIC = "arn:aws:sns:us-east-1:123456789012:sundial-alerts"
# The outcome the test gives each consecutive run (the script fails when told to).
OUTCOMES = [
    "succeeded",  # first run: everyone but `never`
    "succeeded",  # success after success: `always` only
    "failed",  # state change
    "failed",  # failure after failure; 2 in a row: page
    "failed",  # the last 2 runs failed again: page again
    "succeeded",  # recovery
    "failed",  # a single failure after a success: no page (the streak restarted)
]


def _batch_task(name: str, seconds: int, runtime: int | None = None) -> dict:
    task = {
        "task_definition_name": name,
        "dependencies": [],
        "executable": {
            "batch_image_command": {
                "image": "acme/probe",
                "tag": "1",
                "command": ["probe"],
                "memory": 512,
                "vCpus": 1,
                "environment_variables": [
                    {"variable_name": "MOTO_RUN_SECONDS", "value": str(seconds)}
                ],
            }
        },
        "max_attempts": 1,
        "backoff_base_seconds": 0,
    }
    if runtime:
        task["max_runtime_seconds"] = runtime
    return task


# The job that succeeds runs 15 s: a trigger that fires within a second or two of its task
# deferring can race Airflow 3.3.2's scheduler, which then sees the executor's "success"
# of the deferring worker after it has queued the task's resume and fails the task ("task
# instance finished with state success, but the task instance's state attribute is
# queued"); seen here under load with a 4 s job.  Real Batch jobs run far longer.
LIVE_BATCH = {
    "process_definition_name": "run-live-batch",
    "task_definitions": [
        _batch_task("waits-in-the-triggerer", 15),
        _batch_task("too-slow", 120, runtime=6),
    ],
}


@pytest.fixture(scope="module")
def live(moto, tmp_path_factory):
    base = tmp_path_factory.mktemp("live")
    # Triggered by the test only: the schedule would add runs of its own.
    notify = {k: v for k, v in NOTIFY.items() if k != "schedule"}
    sources = base / "sources"
    sources.mkdir()
    (sources / "notify.json").write_text(json.dumps(notify), encoding="utf-8")
    (sources / "batch.json").write_text(json.dumps(LIVE_BATCH), encoding="utf-8")
    out = base / "converted"
    # the team's alerts go to SNS as well (the same rules as email and PagerDuty)
    sns_rules = base / "sns.yaml"
    sns_rules.write_text(
        "version: 1\nrules:\n  - processes: [run-notify]\n"
        f"    set: {{sns_topic_arn: '{SNS_TOPIC}', sns_notifications: also}}\n"
    )
    report = convert_run_fixtures(out, [sources], mappings=[sns_rules])
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name=SNS_TOPIC.rsplit(":", 1)[1])["TopicArn"]
    assert topic == SNS_TOPIC
    queue = sqs.create_queue(QueueName="sundial-alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    entries = {p["process"]: p for p in report["processes"]}
    moto.batch_queues("sundial-job-queue")
    smtp, pager = SmtpSink(), PagerDutySink()
    (pager_conn,) = [
        c["id"]
        for c in entries["run-notify"]["to_create"]
        if c["kind"] == "connection" and "PagerDuty" in c["purpose"]
    ]
    (service_key,) = [
        n["pagerduty"]["service_key"]
        for n in NOTIFY["notifications"]
        if "pagerduty" in n
    ]
    run_out = base / "run-out"
    run_out.mkdir()
    env = {
        **aws_connection(moto.endpoint),
        "SUNDIAL_RUN_OUT": str(run_out),
        **smtp.airflow_connection(),
        **pager.airflow_connection(pager_conn, service_key),
    }
    servers = contextlib.ExitStack()
    airflow = None
    try:
        airflow = LiveAirflow(
            base / "airflow",
            sys.executable,
            dags_folder=out / "dags",
            plugins_folder=out / "plugins",
            task_slots=4,
            triggerer=True,
            env=env,
            backend=servers.enter_context(distributed(base / "servers", workers=2)),
        )
        airflow.start()
        dag_ids = {e["dag_id"] for e in entries.values()}
        airflow.wait_for(
            lambda dags: dag_ids <= set(dags), "the dag-processor to parse the DAGs"
        )
        yield {
            "airflow": airflow,
            "entries": entries,
            "smtp": smtp,
            "pager": pager,
            "run_out": run_out,
            "sqs": (sqs, queue),
        }
    finally:
        if airflow is not None:
            airflow.stop()
        servers.close()
        smtp.stop()
        pager.stop()


def test_aws_waits_run_in_the_triggerer_and_a_timeout_stops_the_job(live, moto):
    airflow, entry = live["airflow"], live["entries"]["run-live-batch"]
    airflow.trigger(entry["dag_id"], "2024-05-01T00:00:00Z", "live-batch")
    run = airflow.wait_for_run(entry["dag_id"], "live-batch")
    states = airflow.task_states(entry["dag_id"], "live-batch")
    tasks = entry["tasks"]
    context = airflow.logs() + airflow.task_logs(entry["dag_id"], "live-batch")
    assert run["state"] == "failed", context
    assert states[tasks["waits-in-the-triggerer"]]["state"] == "success", context
    slow = states[tasks["too-slow"]]
    assert slow["state"] == "failed", context
    assert slow["duration"] < 60, context  # not the job's 120 s: it gave up at ~6 s
    batch = moto.client("batch")
    jobs = {
        j["jobName"]: j
        for status in ("SUCCEEDED", "FAILED", "RUNNING")
        for j in batch.list_jobs(jobQueue="sundial-job-queue", jobStatus=status)[
            "jobSummaryList"
        ]
    }
    assert jobs["waits-in-the-triggerer"]["status"] == "SUCCEEDED"
    (job,) = batch.describe_jobs(jobs=[jobs["too-slow"]["jobId"]])["jobs"]
    assert job["status"] == "FAILED" and job.get("statusReason"), job
    # the waits were the triggerer's (aiobotocore, the triggers' client, polled the jobs)
    polled = {
        job_id
        for body in moto.requests("describejobs", by_trigger=True)
        for job_id in body.get("jobs", [])
    }
    assert {jobs["waits-in-the-triggerer"]["jobId"], job["jobId"]} <= polled


def _wait_for_mail(smtp, previous_count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(smtp.messages) <= previous_count:
        time.sleep(0.3)
    time.sleep(1.5)  # the same callback may still be sending (the other mails, a page)


@pytest.fixture(scope="module")
def notify_runs(live):
    """The consecutive runs, each with what its callback sent."""
    airflow, entry = live["airflow"], live["entries"]["run-notify"]
    smtp, pager = live["smtp"], live["pager"]
    runs = []
    for day, outcome in enumerate(OUTCOMES, start=1):
        (live["run_out"] / "outcome").write_text(
            "fail" if outcome == "failed" else "ok"
        )
        run_id = f"notify-{day}"
        airflow.trigger(entry["dag_id"], f"2024-04-{day:02d}T04:00:00Z", run_id)
        run = airflow.wait_for_run(entry["dag_id"], run_id)
        _wait_for_mail(smtp, 0)
        runs.append((outcome, run, smtp.take(), pager.take()))
    return runs


def test_email_notify_when(notify_runs):
    """first run, success after success, failure after failure, recovery: who is told."""
    previous = None
    for outcome, run, mails, _ in notify_runs:
        assert run["state"] == ("failed" if outcome == "failed" else "success"), run
        wanted = email_recipients(NOTIFY, outcome, previous)
        got = [rcpt for mail in mails for rcpt in mail["to"]]
        assert sorted(got) == sorted(wanted), (outcome, previous, got)
        for mail in mails:
            subject = mail["message"]["Subject"]
            assert NOTIFY["process_definition_name"] in subject
            assert outcome in subject
        previous = outcome
    # every notify_when class was exercised: always alone, and never never
    assert any(
        len(m) and {r for x in m for r in x["to"]} == {"always@example.com"}
        for _, _, m, _ in notify_runs
    )


def test_pagerduty_after_consecutive_failures(notify_runs):
    """An event is triggered when the last num_consecutive_failures runs all failed."""
    history = []
    paged_runs = 0
    for outcome, run, _, events in notify_runs:
        history.append(outcome)
        wanted = pages(NOTIFY, history)
        assert [e["body"].get("routing_key") for e in events] == wanted, (
            history,
            events,
        )
        for event in events:
            assert event["path"].endswith("/enqueue")
            assert event["body"]["event_action"] == "trigger"
            assert (
                NOTIFY["process_definition_name"] in event["body"]["payload"]["summary"]
            )
        paged_runs += bool(events)
    assert paged_runs == 2


def test_the_tasks_ran_on_the_celery_workers(live):
    """Not in the scheduler's process: the CeleryExecutor handed them to the workers,
    whose logs name the DAG runs they served."""
    airflow = live["airflow"]
    assert airflow.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert airflow.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    served = [
        path.name
        for path in sorted(airflow.base.glob("worker-*.log"))
        if "dag_id=run-" in path.read_text(errors="replace")
    ]
    assert served, airflow.logs()


def test_notifications_arrive_on_the_sns_topic_too(live, notify_runs):
    """sns_topic_arn with sns_notifications: also: each run the email rule tells anyone
    about is one message on the topic, and each page one more; a queue subscribed to the
    topic receives them (moto's SNS and SQS)."""
    sqs, queue = live["sqs"]
    got = []
    for _ in range(20):
        answer = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        got += [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        if not answer.get("Messages"):
            break
    subjects = sorted(m["Subject"] for m in got)
    name = NOTIFY["process_definition_name"]
    told = sum(1 for _, _, mails, _ in notify_runs if mails)
    paged = sum(len(events) for _, _, _, events in notify_runs)
    assert told and paged == 2
    assert subjects == sorted(
        [f"Process {outcome}: {name}" for outcome, _, mails, _ in notify_runs if mails]
        + [s for s in subjects if s.startswith("Sundial alert: ")]
    )
    assert len([s for s in subjects if s.startswith("Sundial alert: ")]) == paged
    assert all(m["TopicArn"] == SNS_TOPIC for m in got)
    report = live["entries"]["run-notify"]
    assert any(
        "published to SNS topic " + SNS_TOPIC in f["message"]
        for f in report["findings"]
    )
