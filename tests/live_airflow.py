"""A real Airflow 3 on 127.0.0.1: metadata database, api-server, dag-processor and
scheduler (and a triggerer when asked), for the tests that need Airflow running.

- Two shapes.  Production's (``distributed()``): a PostgreSQL metadata database (a
  throwaway cluster, fixtures/db/cluster.py) and the CeleryExecutor with a Redis broker
  (Debian's ``redis-server``) and two Celery workers, each its own process tree, so a
  task's try and its resume after a deferral may land on different workers.  The
  lightest (the default, for the older-Airflow matrix whose virtualenvs carry no Celery):
  sqlite with the LocalExecutor.
- ``task_slots`` is the default pool's size: 0 (the verify tests) lets the scheduler plan
  and start DAG runs, which moves ``next_dagrun``, while no task ever takes a worker; the
  run tests give it slots and run tasks for real.
- DAGs: from ``bundle`` (a ``dag_bundle_config_list`` entry, e.g. an S3 bundle on moto) or
  from ``dags_folder``; support code from ``plugins_folder``, or (empty plugins folder)
  from a package installed into ``python``'s environment.
- Auth: the simple auth manager (Airflow's default) with user ``admin``; its password
  file is written before start, so the password is known.
- Every process runs under ``timeout`` in its own process group and is stopped by
  ``stop()`` (fixtures call it in ``finally``; ``atexit`` too).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.run.harness import free_port

LIFETIME_S = 900  # `timeout` for every Airflow process, whatever happens to the test
PASSWORD = "verify-test-password"


class RedisServer:
    """Debian's redis-server on a free 127.0.0.1 port, nothing persisted."""

    def __init__(self, base: Path):
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = open(base / "redis.log", "w", encoding="utf-8")
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server not found: install the Debian package 'redis-server'"
            )
        self.proc = subprocess.Popen(
            ["timeout", str(LIFETIME_S), binary, "--port", str(self.port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(base)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"redis-server did not start: {(base / 'redis.log').read_text()}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.log.close()


@dataclass
class Backend:
    """Where Airflow keeps its state and how it runs tasks."""

    database_url: str | None = None  # None: sqlite in AIRFLOW_HOME
    celery_broker: str | None = None  # None: LocalExecutor
    celery_result_backend: str | None = None
    workers: int = 0

    def env(self, home: Path) -> dict[str, str]:
        env = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url
            or f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": (
                "CeleryExecutor" if self.celery_broker else "LocalExecutor"
            ),
        }
        if self.database_url:  # psycopg 3 serves the async engine too (no asyncpg)
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = self.database_url
        if self.celery_broker:
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": self.celery_broker,
                    "AIRFLOW__CELERY__RESULT_BACKEND": self.celery_result_backend,
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
                    "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
                }
            )
        return env


@contextlib.contextmanager
def distributed(base: Path, workers: int = 2):
    """Production's shape: PostgreSQL + CeleryExecutor on Redis with ``workers``
    workers.  Yields the Backend for LiveAirflow; stops both servers after."""
    from fixtures.db.cluster import PASSWORD as PG_PASSWORD, SUPERUSER, PostgresCluster

    base = Path(base)
    with PostgresCluster() as cluster:
        cluster.create_database("airflow")
        redis = RedisServer(base / "redis")
        try:
            where = f"{SUPERUSER}:{PG_PASSWORD}@127.0.0.1:{cluster.port}/airflow"
            yield Backend(
                database_url=f"postgresql+psycopg://{where}",
                celery_broker=redis.url,
                celery_result_backend=f"db+postgresql+psycopg://{where}",
                workers=workers,
            )
        finally:
            redis.stop()


def s3_bundle(bucket: str, prefix: str) -> dict:
    return {
        "name": "sundial",
        "classpath": "airflow.providers.amazon.aws.bundles.s3.S3DagBundle",
        "kwargs": {
            "bucket_name": bucket,
            "prefix": prefix,
            "aws_conn_id": "aws_default",
            "refresh_interval": 3,
        },
    }


def aws_connection(endpoint: str) -> dict[str, str]:
    """The ``aws_default`` connection pointed at a moto server."""
    return {
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"region_name": "us-east-1", "endpoint_url": endpoint},
            }
        ),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class LiveAirflow:
    def __init__(
        self,
        base: Path,
        python: str,
        *,
        bundle: dict | None = None,
        dags_folder: Path | None = None,
        plugins_folder: Path | None = None,
        task_slots: int = 0,
        triggerer: bool = False,
        env: dict[str, str] | None = None,
        backend: Backend | None = None,
    ):
        self.base = Path(base)
        self.home = self.base / "home"
        self.home.mkdir(parents=True)
        if plugins_folder is None:
            plugins_folder = self.base / "no-plugins"
            plugins_folder.mkdir()
        self.python = python
        self.triggerer = triggerer
        self.backend = backend or Backend()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self._logs = []
        base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "AWS_", "PYTHONPATH"))
        }
        base_env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                **self.backend.env(self.home),
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": str(task_slots),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__SECRET_KEY": "live-test-secret-key",
                "AIRFLOW__API_AUTH__JWT_SECRET": "live-test-jwt-secret",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "5",
                "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "2",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            }
        )
        if bundle is not None:
            base_env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
                [bundle]
            )
        if dags_folder is not None:
            base_env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
        base_env.update(env or {})
        env = base_env
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
        """api-server, dag-processor, scheduler (triggerer); returns once the API
        answers."""
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
        if self.triggerer:
            self._spawn("triggerer", "triggerer", "--skip-serve-logs")
        for n in range(1, self.backend.workers + 1):
            # each its own host name; logs go to the shared log folder (no log server)
            self._spawn(
                f"worker-{n}",
                "celery",
                "worker",
                "--celery-hostname",
                f"worker-{n}@%h",
                "--skip-serve-logs",
                "--without-gossip",
                "--without-mingle",
            )
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

    def request(self, method: str, path: str, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = requests.request(
            method, self.url + path, headers=headers, timeout=10, **kwargs
        )
        if not answer.ok:
            raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else {}

    def trigger(self, dag_id: str, logical_date: str, run_id: str) -> None:
        """Unpause the DAG (every converted DAG is created paused until its cutover;
        Airflow runs no run of a paused DAG), then trigger a run."""
        self.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        self.request(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": logical_date},
        )

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict:
        """The DAG run once it has ended (success or failed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args} died:\n{self.logs()}")
            run = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(0.5)
        raise AssertionError(f"run {run_id} of {dag_id} did not end\n{self.logs()}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, dict]:
        found = self.request(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        )["task_instances"]
        return {t["task_id"]: t for t in found}

    def task_logs(self, dag_id: str, run_id: str, tail: int = 4000) -> str:
        """The task logs of one run (for a failing test's message)."""
        out = []
        for path in sorted(
            (self.home / "logs").glob(f"dag_id={dag_id}/run_id={run_id}/**/*.log")
        ):
            text = path.read_text(errors="replace")
            out.append(f"--- {path.relative_to(self.home)} ---\n{text[-tail:]}")
        return "\n".join(out)

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
