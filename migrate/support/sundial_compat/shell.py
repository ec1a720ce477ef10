"""Run a Sundial shell task the way Sundial did: ``bash <file>``, env added, status protocol."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading

from airflow.providers.standard.operators.bash import BashOperator

from sundial_compat.airflow_api import AirflowException
from sundial_compat.task import SundialTask

STATUS_PREFIX = "**status="
METADATA_PREFIX = "**metadata:"


class SundialShellOperator(SundialTask, BashOperator):
    """A BashOperator that runs ``script`` byte for byte as Sundial's shell executor did.

    - The script is written to a file and run as ``bash <file>``: no Jinja rendering (there
      are no template fields), no ``.sh`` template-file lookup.
    - ``env`` is added to the worker's environment (``secret_env`` values are read from
      Airflow Variables at run time), plus SUNDIAL_TASK_PREVIOUS_ATTEMPTS as Sundial set it.
    - With ``require_explicit_success`` the task succeeds only if the script exits 0 and the
      last ``**status=`` line on stdout says ``success``; without it the exit code decides.
    - ``**metadata:KEY=VALUE`` lines are returned as a dict (the task's XCom).
    - ``working_directory``: where bash runs (created if missing), as Sundial ran every
      script in its service's one working directory; None: a fresh temporary directory
      for each attempt, removed when it ends.
    """

    template_fields = ()
    template_ext = ()
    ui_color = "#e8f0e4"

    def __init__(
        self,
        *,
        script: str,
        env: dict[str, str] | None = None,
        secret_env: dict[str, str] | None = None,
        require_explicit_success: bool = False,
        working_directory: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            bash_command="bash <script file>",
            env=env,
            append_env=True,
            skip_on_exit_code=None,
            **kwargs,
        )
        self.script = script
        self.secret_env = secret_env or {}
        self.require_explicit_success = require_explicit_success
        self.working_directory = working_directory
        self._process: subprocess.Popen | None = None

    def build_env(self, context) -> dict[str, str]:
        env = os.environ.copy()
        ti = context.get("ti") if context else None
        try_number = getattr(ti, "try_number", 1) or 1
        env["SUNDIAL_TASK_PREVIOUS_ATTEMPTS"] = str(try_number - 1)
        env.update(self.env or {})
        if self.secret_env:
            from airflow.sdk import Variable

            for name, key in self.secret_env.items():
                env[name] = Variable.get(key)
        return env

    def execute(self, context):
        self.before_attempt(context)
        env = self.build_env(context)
        status = None
        metadata: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="sundial") as scratch:
            workdir = scratch
            if self.working_directory is not None:
                workdir = self.working_directory
                os.makedirs(workdir, exist_ok=True)
            path = os.path.join(scratch, "sundial.sh")
            with open(
                path, "w", encoding="utf-8", newline="", errors="surrogateescape"
            ) as handle:
                handle.write(self.script)
            self._process = subprocess.Popen(
                ["bash", path],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=workdir,
                start_new_session=True,
            )
            # Sundial parsed stdout only; stderr is logged but never read for the protocol.
            err_thread = threading.Thread(
                target=self._log_stream,
                args=(self._process.stderr, "stderr"),
                daemon=True,
            )
            err_thread.start()
            try:
                for raw in self._process.stdout:
                    line = raw.decode("utf-8", "replace").rstrip("\n")
                    self.log.info("%s", line)
                    if line.startswith(STATUS_PREFIX):
                        value = line[len(STATUS_PREFIX) :]
                        if value in ("success", "failure"):
                            status = value
                    elif line.startswith(METADATA_PREFIX):
                        key, _, value = line[len(METADATA_PREFIX) :].partition("=")
                        metadata[key] = value
                code = self._process.wait()
            except (
                BaseException
            ):  # a timeout or a kill: the script must not outlive the task
                self.on_kill()
                raise
            err_thread.join(timeout=5)
        if code != 0:
            raise AirflowException(
                f"Sundial shell task failed: bash exited with code {code}"
            )
        if self.require_explicit_success and status != "success":
            raise AirflowException(
                "Sundial shell task requires explicit success: the script exited 0 but "
                + (
                    "reported **status=failure"
                    if status == "failure"
                    else "printed no **status=success line"
                )
            )
        return metadata or None

    def _log_stream(self, stream, name: str) -> None:
        for raw in stream:
            self.log.info("[%s] %s", name, raw.decode("utf-8", "replace").rstrip("\n"))

    def on_kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            try:
                os.killpg(os.getpgid(self._process.pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
