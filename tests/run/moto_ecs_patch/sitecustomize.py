"""Loaded by the `moto_server` the run tests start (PYTHONPATH=this folder), nowhere else.

moto runs no containers: an ECS task's status moves to STOPPED when described, but its
container stays ``lastStatus: PENDING`` forever, so EcsRunTaskOperator's success check fails
("This task is still pending").  This patch finishes the container with the task: once a
described task is STOPPED its containers report STOPPED with exit code 0, as a container
that ran its command successfully would.  Requests and everything else are moto's own.
"""

import os

if os.environ.get("SUNDIAL_RUN_PATCH_MOTO_ECS") == "1":
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
