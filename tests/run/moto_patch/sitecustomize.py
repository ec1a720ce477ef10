"""Loaded by the `moto_server` the run tests start (PYTHONPATH=this folder), nowhere else.

moto runs no containers and no Spark: it finishes a Batch job the moment it is submitted,
never finishes an ECS container, and leaves EMR steps RUNNING forever.  These patches make
the server behave like AWS running a job that the fixture describes, so the generated
tasks really wait (and, deferrable, really defer) and really fail; every request is
still moto's own.

- Batch (``SUNDIAL_RUN_PATCH_MOTO=1``): a job stays RUNNING for ``MOTO_RUN_SECONDS`` (an
  env var of the job, default 0) and then ends SUCCEEDED, or FAILED when its
  ``MOTO_EXIT_CODE`` is not 0.  ``TerminateJob`` ends it FAILED at once with its reason.
- ECS: once a described task is STOPPED its containers report STOPPED with exit code 0.
- EMR: a background clock runs each cluster's steps in order.  A step runs for the
  ``MOTO_RUN_SECONDS=N`` element of its arguments (default 1 s) and FAILS when an element
  is ``MOTO_FAIL``.  A failed TERMINATE_CLUSTER step cancels the pending steps and ends the
  cluster TERMINATED_WITH_ERRORS; CONTINUE goes on.  A cluster without steps left ends
  TERMINATED unless it is kept alive (then WAITING).  ``CancelSteps`` (which moto lacks)
  cancels PENDING steps and interrupts RUNNING ones, as AWS does for the steps it can.
"""

import os

if os.environ.get("SUNDIAL_RUN_PATCH_MOTO") == "1":
    import datetime
    import re
    import threading
    import time

    # -- Batch --------------------------------------------------------------------------
    from moto.batch_simple import models as _batch_simple

    def _job_env(job) -> dict:
        env = {}
        props = job.job_definition.container_properties or {}
        for source in (
            props.get("environment"),
            job.container_overrides.get("environment"),
        ):
            for item in source or []:
                env[item["name"]] = item["value"]
        return env

    def _mark_job_as_finished(self, include_start_attempt, job):
        self.backend._jobs[job.job_id] = job
        job.job_started_at = datetime.datetime.now()
        job.log_stream_name = job._stream_name
        if include_start_attempt:
            job._start_attempt()
        env = _job_env(job)
        seconds = float(env.get("MOTO_RUN_SECONDS", "0"))
        succeeds = env.get("MOTO_EXIT_CODE", "0") == "0"
        job.status = "RUNNING"

        def run():
            end = time.monotonic() + seconds
            while time.monotonic() < end and not job.stop:
                time.sleep(0.1)
            job._mark_stopped(success=succeeds and not job.stop)

        if seconds <= 0 or job.stop:
            run()
        else:
            threading.Thread(target=run, daemon=True).start()

    _batch_simple.BatchSimpleBackend._mark_job_as_finished = _mark_job_as_finished

    # -- ECS ----------------------------------------------------------------------------
    from moto.ecs import models as _ecs

    _describe_tasks = _ecs.EC2ContainerServiceBackend.describe_tasks

    def describe_tasks(self, cluster_str, tasks):
        found = _describe_tasks(self, cluster_str, tasks)
        for task in found:
            if task.last_status == "STOPPED":
                for container in task.containers:
                    container.last_status = "STOPPED"
                    container.exitCode = 0
        return found

    _ecs.EC2ContainerServiceBackend.describe_tasks = describe_tasks

    # -- EMR ----------------------------------------------------------------------------
    from moto.core.utils import utcnow
    from moto.emr import models as _emr
    from moto.emr.responses import ElasticMapReduceResponse

    _started: dict[str, float] = {}
    _ENDED = ("TERMINATED", "TERMINATED_WITH_ERRORS", "TERMINATING")

    def _step_plan(step) -> tuple[float, bool]:
        seconds, fails = 1.0, False
        for arg in step.args or []:
            match = re.fullmatch(r"MOTO_RUN_SECONDS=([0-9.]+)", str(arg))
            if match:
                seconds = float(match.group(1))
            fails = fails or arg == "MOTO_FAIL"
        return seconds, fails

    def _tick_cluster(cluster) -> None:
        steps = sorted(cluster.steps, key=lambda s: s.creation_date_time)
        if cluster.state in _ENDED:
            for s in steps:
                if s.state == "PENDING":
                    s.state = "CANCELLED"
                elif s.state == "RUNNING":
                    s.state = "INTERRUPTED"
            return
        running = [s for s in steps if s.state == "RUNNING"]
        if not running:
            pending = [s for s in steps if s.state == "PENDING"]
            if pending:
                pending[0].state = "RUNNING"
                pending[0].start_date_time = utcnow()
                running = pending[:1]
                cluster.state = "RUNNING"
        for step in running:
            began = _started.setdefault(step.id, time.monotonic())
            seconds, fails = _step_plan(step)
            if time.monotonic() - began < seconds:
                continue
            step.state = "FAILED" if fails else "COMPLETED"
            step.end_date_time = utcnow()
            if fails and step.action_on_failure in (
                "TERMINATE_CLUSTER",
                "TERMINATE_JOB_FLOW",
            ):
                for other in steps:
                    if other.state == "PENDING":
                        other.state = "CANCELLED"
                cluster.state = "TERMINATED_WITH_ERRORS"
                return
        if cluster.state in (
            "RUNNING",
            "STARTING",
            "BOOTSTRAPPING",
            "WAITING",
        ) and not [s for s in steps if s.state in ("PENDING", "RUNNING")]:
            cluster.state = (
                "WAITING" if cluster.keep_job_flow_alive_when_no_steps else "TERMINATED"
            )

    def _clock() -> None:
        while True:
            time.sleep(0.2)
            try:
                for account in list(_emr.emr_backends.keys()):
                    for region in list(_emr.emr_backends[account].keys()):
                        backend = _emr.emr_backends[account][region]
                        for cluster in list(backend.clusters.values()):
                            _tick_cluster(cluster)
            except Exception as exc:  # keep the clock going
                print("moto EMR clock:", repr(exc), flush=True)

    threading.Thread(target=_clock, daemon=True).start()

    def cancel_steps(self):
        from moto.core.responses import ActionResult

        cluster = self.backend.clusters[self._get_param("ClusterId")]
        wanted = set(self._get_param("StepIds", []))
        info = []
        for step in cluster.steps:
            if step.id in wanted:
                if step.state == "PENDING":
                    step.state = "CANCELLED"
                elif step.state == "RUNNING":
                    step.state = "INTERRUPTED"
                info.append({"StepId": step.id, "Status": "SUBMITTED"})
        return ActionResult({"CancelStepsInfoList": info})

    ElasticMapReduceResponse.cancel_steps = cancel_steps
