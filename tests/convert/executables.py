"""Sundial task definitions for the per-executable mapper tests."""

from __future__ import annotations


def batch_task(name="load", **executable):
    return {
        "task_definition_name": name,
        "dependencies": [],
        "executable": {
            "batch_image_command": {
                "image": "repo/img",
                "tag": "7",
                "command": ["run", "{{ ds }}"],
                "memory": 2048,
                "vCpus": 2,
                **executable,
            }
        },
        "max_attempts": 3,
        "backoff_base_seconds": 30,
    }


def ecs_task(name="train", **executable):
    return {
        "task_definition_name": name,
        "dependencies": [],
        "executable": {
            "docker_image_command": {
                "image": "repo/ecs",
                "tag": "2",
                "command": ["fit"],
                **executable,
            }
        },
        "max_attempts": 1,
        "backoff_base_seconds": 0,
    }


def emr_task(name="spark", cluster=None, **executable):
    cluster = cluster or {"existing_emr_cluster": {"cluster_id": "j-ABC"}}
    return {
        "task_definition_name": name,
        "dependencies": [],
        "executable": {
            "emr_command": {
                "emr_cluster": cluster,
                "job_name": "agg",
                "class": "com.x.Main",
                "s3_jar_path": "s3://jars/x.jar",
                "spark_conf": [],
                "args": ["--d", "1"],
                **executable,
            }
        },
        "max_attempts": 2,
        "backoff_base_seconds": 0,
    }


NEW_CLUSTER = {
    "new_emr_cluster": {
        "name": "c",
        "applications": ["Spark"],
        "s3_log_uri": "s3://logs",
        "master_instance": {
            "emr_instance_type": "m5.xlarge",
            "instance_count": 1,
            "aws_market": {"on_demand": "on_demand"},
        },
        "emr_service_role": {"default_emr_service_role": "EMR_DefaultRole"},
        "emr_job_flow_role": {"default_emr_job_flow_role": "EMR_EC2_DefaultRole"},
    }
}
