"""A real Airflow 3.3 on 127.0.0.1: metadata database, api-server, dag-processor and
scheduler, reading its DAGs from an S3 DAG bundle on a moto server.

- Database: sqlite with the LocalExecutor (Airflow 3.3 accepts the pair; ``airflow db
  migrate`` takes ~3 s).  The default pool is created with 0 slots, so the scheduler
  plans and starts DAG runs (which moves ``next_dagrun``) but no task ever takes a
  worker: runs against moto's AWS would only burn the two cores.
- Auth: the simple auth manager (Airflow's default) with user ``admin``; its password
  file is written before start, so the password is known.
- Support code: installed by ``pip install -r requirements.txt`` into a fresh venv
  (tests/support/venv.py); the plugins folder is empty, so the Quartz timetable can only
  come from the package's entry point.
- Every process runs under ``timeout`` in its own process group and is stopped by
  ``stop()`` (fixtures call it in ``finally``; ``atexit`` too).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.run.harness import free_port

LIFETIME_S = 900  # `timeout` for every Airflow process, whatever happens to the test
PASSWORD = "verify-test-password"


class LiveAirflow:
    def __init__(
        self, base: Path, python: str, moto_endpoint: str, bucket: str, prefix: str
    ):
        self.base = Path(base)
        self.home = self.base / "home"
        self.home.mkdir(parents=True)
        (self.base / "no-plugins").mkdir()
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self._logs = []
        bundle = {
            "name": "sundial",
            "classpath": "airflow.providers.amazon.aws.bundles.s3.S3DagBundle",
            "kwargs": {
                "bucket_name": bucket,
                "prefix": prefix,
                "aws_conn_id": "aws_default",
                "refresh_interval": 3,
            },
        }
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "AWS_", "PYTHONPATH"))
        }
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": "0",
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.base / "no-plugins"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__SECRET_KEY": "verify-test-secret-key",
                "AIRFLOW__API_AUTH__JWT_SECRET": "verify-test-jwt-secret",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([bundle]),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "5",
                "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "5",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                    {
                        "conn_type": "aws",
                        "login": "testing",
                        "password": "testing",
                        "extra": {
                            "region_name": "us-east-1",
                            "endpoint_url": moto_endpoint,
                        },
                    }
                ),
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        self.env = env
        (self.home / "simple_auth_manager_passwords.json.generated").write_text(
            json.dumps({"admin": PASSWORD})
        )
        self.migrate_seconds = self._migrate()
        atexit.register(self.stop)

    def _migrate(self) -> float:
        started = time.monotonic()
        proc = subprocess.run(
            [self.python, "-m", "airflow", "db", "migrate"],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return time.monotonic() - started

    def start(self) -> None:
        """api-server, dag-processor, scheduler; returns once the API answers."""
        self._spawn(
            "api-server",
            "api-server",
            "-H",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-w",
            "1",
        )
        self._spawn("dag-processor", "dag-processor")
        self._spawn("scheduler", "scheduler", "--skip-serve-logs")
        deadline = time.monotonic() + 120
        while True:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args} exited early:\n{self.logs()}")
            try:
                if requests.get(self.url + "/api/v2/version", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the api-server did not answer:\n{self.logs()}")
            time.sleep(0.5)

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.base / f"{name}.log", "w", encoding="utf-8")
        self._logs.append(log)
        self.procs.append(
            subprocess.Popen(
                ["timeout", str(LIFETIME_S), self.python, "-m", "airflow", *args],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )
        )

    def logs(self, tail: int = 3000) -> str:
        out = []
        for path in sorted(self.base.glob("*.log")):
            out.append(
                f"--- {path.name} ---\n{path.read_text(errors='replace')[-tail:]}"
            )
        return "\n".join(out)

    def token(self) -> str:
        answer = requests.post(
            self.url + "/auth/token",
            json={"username": "admin", "password": PASSWORD},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def get(self, path: str, **params) -> dict:
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = requests.get(
            self.url + path,
            params={"limit": 100, **params},
            headers=headers,
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def dags(self) -> dict[str, dict]:
        """Every DAG, stale ones too."""
        found = self.get("/api/v2/dags", exclude_stale="false")["dags"]
        return {d["dag_id"]: d for d in found}

    def import_errors(self) -> list[dict]:
        return self.get("/api/v2/importErrors")["import_errors"]

    def wait_for(self, condition, what: str, timeout: float = 150) -> dict[str, dict]:
        """Poll the DAG list until ``condition(dags)`` holds."""
        deadline = time.monotonic() + timeout
        dags: dict[str, dict] = {}
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args} died:\n{self.logs()}")
            try:
                dags = self.dags()
            except requests.RequestException:
                dags = {}
            if condition(dags):
                return dags
            time.sleep(2)
        raise AssertionError(
            f"timed out waiting for {what}; DAGs seen: {sorted(dags)}\n{self.logs()}"
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:  # the group, whatever is left of it
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(timeout=10)
        for log in self._logs:
            log.close()
        self._logs = []
