"""Run generated DAGs for real: `airflow db migrate` once, `airflow dags test` per run.

Every Airflow command is a subprocess of the venv's `airflow` with its own environment
(never the in-process one tests/conftest.py configured).  One AIRFLOW_HOME is migrated per
session (the template); each independent DAG run gets a copy of its sqlite database, so
runs can go in parallel without sharing a sqlite file.  Consecutive runs of one DAG (the
notification scenarios) reuse one home, as a scheduler would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_FIXTURES = ROOT / "fixtures" / "run"
RUN_MAPPINGS = RUN_FIXTURES / "mappings.yaml"


def venv_bin(name: str) -> str:
    """A console script of the project's virtualenv (the one running the tests)."""
    for folder in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def convert_run_fixtures(
    out: Path,
    sources: list[Path] | None = None,
    airflow_version: str | None = None,
    mappings: list[Path] = (),
) -> dict:
    """Convert fixtures/run/*.json (fixtures/run/mappings.yaml: PagerDuty on, 1 s AWS
    polls; then ``mappings``)."""
    from migrate.pipeline import convert

    sources = sources or sorted(RUN_FIXTURES.glob("*.json"))
    result = convert(
        sources,
        out,
        mappings=[RUN_MAPPINGS, *mappings],
        timezone="UTC",
        airflow_version=airflow_version,
    )
    assert not result.problems, [str(p) for p in result.problems]
    from migrate.report import read_parity  # every finding with its message

    return read_parity(out / "report" / "parity.json")


def _clean_environ() -> dict[str, str]:
    # The pytest process configured Airflow for in-process DagBag tests; start afresh.
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


@dataclass
class Try:
    try_number: int
    state: str | None
    start: float | None
    end: float | None


@dataclass
class RunResult:
    dag_id: str
    logical_date: str
    returncode: int
    output: Path
    run_out: Path
    state: str | None = None
    run_id: str | None = None
    # task_id -> final state / try_number / every try (history + current)
    states: dict[str, str | None] = field(default_factory=dict)
    tries: dict[str, list[Try]] = field(default_factory=dict)
    seconds: float = 0.0

    def log_tail(self, lines: int = 80) -> str:
        text = self.output.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        return (
            f"{self.dag_id} @ {self.logical_date}: rc={self.returncode} run state={self.state}\n"
            f"task states: {json.dumps(self.states, indent=1, sort_keys=True)}\n"
            f"--- output tail ({self.output}) ---\n{self.log_tail()}"
        )


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import datetime, timezone

    value = value.replace(" ", "T")
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class AirflowHome:
    """One AIRFLOW_HOME (a copy of the migrated template database)."""

    def __init__(
        self,
        path: Path,
        dags: Path,
        plugins: Path,
        env: dict[str, str] | None = None,
        bin_dir: Path | None = None,
    ):
        self.path = path
        self.dags = dags
        self.plugins = plugins
        self.extra_env = dict(env or {})
        # another Airflow's virtualenv (tests/matrix); None: ours
        self.bin_dir = bin_dir

    def bin(self, name: str) -> str:
        return str(self.bin_dir / name) if self.bin_dir else venv_bin(name)

    def environ(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = _clean_environ()
        env.update(
            {
                "AIRFLOW_HOME": str(self.path),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.path / 'airflow.db'}",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.plugins),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.path / "logs"),
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            }
        )
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def airflow(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ):
        return subprocess.run(
            [self.bin("airflow"), *args],
            env=self.environ(env),
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def dags_test(
        self,
        dag_id: str,
        logical_date: str,
        *,
        dag_file: Path | None = None,
        mark_success: str | None = None,
        env: dict[str, str] | None = None,
        run_out: Path | None = None,
        prepare=None,
        timeout: float = 300,
    ) -> RunResult:
        """`airflow dags test DAG_ID DATE`; scripts get SUNDIAL_RUN_OUT, a fresh folder."""
        run_out = run_out or self.path / "run-out" / f"{dag_id}@{logical_date}"
        run_out.mkdir(parents=True, exist_ok=True)
        if prepare is not None:
            prepare(run_out)
        output = self.path / f"dags-test-{dag_id}@{logical_date}.log"
        cmd = [self.bin("airflow"), "dags", "test", dag_id, logical_date]
        if dag_file is not None:
            cmd += ["--dagfile-path", str(dag_file)]
        if mark_success:
            cmd += ["--mark-success-pattern", mark_success]
        started = time.monotonic()
        with open(output, "w", encoding="utf-8") as handle:
            proc = subprocess.run(
                cmd,
                env=self.environ({"SUNDIAL_RUN_OUT": str(run_out), **(env or {})}),
                cwd=self.path,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        result = RunResult(dag_id, logical_date, proc.returncode, output, run_out)
        result.seconds = time.monotonic() - started
        self._read_back(result)
        return result

    def _read_back(self, result: RunResult) -> None:
        db = sqlite3.connect(self.path / "airflow.db")
        try:
            row = db.execute(
                "select run_id, state from dag_run where dag_id = ? "
                "and logical_date like ? order by id desc limit 1",
                (result.dag_id, result.logical_date + "%"),
            ).fetchone()
            if row is None:
                return
            result.run_id, result.state = row
            tries: dict[str, list[Try]] = {}
            for task_id, try_number, state, start, end in db.execute(
                "select task_id, try_number, state, start_date, end_date "
                "from task_instance_history where dag_id = ? and run_id = ?",
                (result.dag_id, result.run_id),
            ):
                tries.setdefault(task_id, []).append(
                    Try(try_number, state, _ts(start), _ts(end))
                )
            for task_id, try_number, state, start, end in db.execute(
                "select task_id, try_number, state, start_date, end_date "
                "from task_instance where dag_id = ? and run_id = ?",
                (result.dag_id, result.run_id),
            ):
                result.states[task_id] = state
                if start is not None:
                    known = {t.try_number for t in tries.get(task_id, [])}
                    if try_number not in known:
                        tries.setdefault(task_id, []).append(
                            Try(try_number, state, _ts(start), _ts(end))
                        )
            result.tries = {
                k: sorted(v, key=lambda t: t.try_number) for k, v in tries.items()
            }
        finally:
            db.close()


class AirflowSession:
    """`airflow db migrate` once; hands out homes that copy the migrated database."""

    def __init__(
        self, base: Path, dags: Path, plugins: Path, bin_dir: Path | None = None
    ):
        self.base = base
        self.dags = dags
        self.plugins = plugins
        self.bin_dir = bin_dir
        self.template = base / "template-home"
        self.template.mkdir(parents=True, exist_ok=True)
        home = AirflowHome(self.template, dags, plugins, bin_dir=bin_dir)
        started = time.monotonic()
        proc = home.airflow("db", "migrate")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        self.migrate_seconds = time.monotonic() - started

    def home(
        self,
        name: str,
        env: dict[str, str] | None = None,
        converted: Path | None = None,
    ) -> AirflowHome:
        """A fresh home; ``converted``: another conversion's output (its dags/, plugins/)."""
        path = self.base / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        shutil.copy2(self.template / "airflow.db", path / "airflow.db")
        if converted is not None:
            return AirflowHome(
                path, converted / "dags", converted / "plugins", env, self.bin_dir
            )
        return AirflowHome(path, self.dags, self.plugins, env, self.bin_dir)


def run_parallel(jobs: dict[str, callable], workers: int = 3) -> dict:
    """Run independent `airflow dags test` jobs side by side (each in its own home)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def read_trace(run_out: Path) -> list[tuple[str, str, float]]:
    """The lines `<sundial task> start|end <epoch>` the fixture scripts append."""
    path = run_out / "trace"
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, what, when = line.rsplit(" ", 2)
        events.append((name, what, float(when)))
    return events


class MotoServer:
    """`moto_server -H 127.0.0.1 -p PORT` with request recording."""

    def __init__(self, folder: Path, extra_env: dict[str, str] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording = folder / "requests.jsonl"
        self.log = folder / "moto.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parent / "moto_patch"),
            "SUNDIAL_RUN_PATCH_MOTO": "1",
            "MOTO_ENABLE_RECORDING": "True",
            "MOTO_RECORDER_FILEPATH": str(self.recording),
            **(extra_env or {}),
        }
        self._log = open(self.log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [venv_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        import requests

        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.endpoint + "/moto-api/data.json", timeout=1)
                break
            except requests.RequestException:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text())
                time.sleep(0.2)
        # Batch jobs "run" without Docker (moto's simple backend: they succeed at once).
        requests.post(
            self.endpoint + "/moto-api/config",
            json={"batch": {"use_docker": False}},
            timeout=5,
        ).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def batch_queues(self, *names: str) -> dict[str, str]:
        """Job queues (name -> ARN) on an UNMANAGED compute environment, as Batch needs;
        queues that exist already (the server is shared by the tests) are reused."""
        iam, batch = self.client("iam"), self.client("batch")
        found = {
            q["jobQueueName"]: q["jobQueueArn"]
            for q in batch.describe_job_queues()["jobQueues"]
        }
        missing = [n for n in names if n not in found]
        if missing:
            self._environments = getattr(self, "_environments", 0) + 1
            label = f"sundial-run-{self._environments}"
            role = iam.create_role(
                RoleName=label,
                AssumeRolePolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": []}
                ),
            )["Role"]["Arn"]
            env_arn = batch.create_compute_environment(
                computeEnvironmentName=label,
                type="UNMANAGED",
                state="ENABLED",
                serviceRole=role,
            )["computeEnvironmentArn"]
            for name in missing:
                found[name] = batch.create_job_queue(
                    jobQueueName=name,
                    state="ENABLED",
                    priority=1,
                    computeEnvironmentOrder=[
                        {"order": 1, "computeEnvironment": env_arn}
                    ],
                )["jobQueueArn"]
        return {name: found[name] for name in names}

    def client(self, service: str, region: str = "us-east-1"):
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def airflow_env(self) -> dict[str, str]:
        """Airflow connections (env form) that point every AWS call at this server."""
        return {
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {
                        "region_name": "us-east-1",
                        "endpoint_url": self.endpoint,
                    },
                }
            ),
            # EmrCreateJobFlowOperator merges this connection's extra into the job flow.
            "AIRFLOW_CONN_EMR_DEFAULT": json.dumps({"conn_type": "emr", "extra": {}}),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def requests(self, action: str, by_trigger: bool = False) -> list[dict]:
        """Recorded request bodies for one API action (JSON protocols and Batch's REST);
        ``by_trigger``: only those a deferred task's trigger made (aiobotocore's)."""
        import base64

        found = []
        if not self.recording.exists():
            return found
        for line in self.recording.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in entry["headers"].items()}
            target = headers.get("x-amz-target", "").rsplit(".", 1)[-1]
            path = entry["url"].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if action.lower() not in (target.lower(), path.lower()):
                continue
            if by_trigger and "aiobotocore" not in headers.get("user-agent", ""):
                continue
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8")
            found.append(json.loads(body) if body else {})
        return found
