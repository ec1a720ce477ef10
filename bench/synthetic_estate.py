"""A seeded generator of realistic synthetic Sundial estates (API wire shape).

Default: 10,000 processes, about 50,000 tasks, with a realistic mix of executors, schedules,
dependency shapes (chains, fan-out/fan-in, optional edges), env vars and notifications.

    python bench/synthetic_estate.py --processes 10000 --out /tmp/estate   # one file per process
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

CRONS = [
    ("0", "5", "?", "*", "MON-FRI"),
    ("*/15", "*", "*", "*", "?"),
    ("0", "*/2", "*", "*", "?"),
    ("30", "2", "*", "*", "?"),
    ("0", "6", "1", "*", "?"),
    ("0", "4", "?", "*", "SUN"),
    ("0,30", "8-18", "?", "*", "2-6"),
    ("0", "7", "L", "*", "?"),
    ("0", "9", "15W", "*", "?"),
    ("0", "10", "?", "*", "6#3"),
    ("45", "23", "?", "JAN,APR,JUL,OCT", "1"),
    ("0", "22-2", "*", "*", "?"),
]


def _env(rng: random.Random) -> list[dict]:
    names = [
        "ENV",
        "REGION",
        "LOG_LEVEL",
        "TARGET_TABLE",
        "DB_PASSWORD",
        "API_TOKEN",
        "BATCH_SIZE",
    ]
    return [
        {"variable_name": n, "value": f"{n.lower()}-{rng.randint(0, 999)}"}
        for n in rng.sample(names, rng.randint(0, 4))
    ]


def _executable(rng: random.Random, process: str, task: str) -> dict:
    kind = rng.choices(["batch", "shell", "emr", "docker"], weights=[55, 30, 10, 5])[0]
    if kind == "shell":
        return {
            "shell_script_command": {
                "script": f"set -euo pipefail\necho 'running {task}'\n/opt/jobs/{task}.sh --date \"$(date +%F)\"\n",
                "environment_variables": _env(rng),
            }
        }
    if kind == "batch":
        body = {
            "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{process}/{task}",
            "tag": f"1.{rng.randint(0, 40)}.{rng.randint(0, 9)}",
            "command": ["python", "-m", f"jobs.{task}", "--env", "prod"],
            "memory": rng.choice([512, 1024, 2048, 4096, 8192]),
            "vCpus": rng.choice([1, 2, 4]),
            "environment_variables": _env(rng),
        }
        if rng.random() < 0.3:
            body["job_queue"] = rng.choice(
                ["gpu-queue", "priority-queue", "spot-queue"]
            )
        if rng.random() < 0.5:
            body["job_role_arn"] = f"arn:aws:iam::123456789012:role/{process}"
        return {"batch_image_command": body}
    if kind == "docker":
        return {
            "docker_image_command": {
                "image": f"repo/{task}",
                "tag": "latest",
                "command": ["run", task],
                "log_paths": [f"/var/log/{task}.log"] if rng.random() < 0.3 else [],
                "environment_variables": _env(rng),
            }
        }
    cluster = (
        {"existing_emr_cluster": {"cluster_id": f"j-{rng.randint(10**9, 10**10)}"}}
        if rng.random() < 0.3
        else {
            "new_emr_cluster": {
                "name": f"{process}-{task}",
                "release_label": "emr-5.20.0",
                "applications": ["Spark", "Hadoop"],
                "s3_log_uri": f"s3://emr-logs/{process}/",
                "master_instance": {
                    "emr_instance_type": "m5.xlarge",
                    "instance_count": 1,
                    "aws_market": {"on_demand": "on_demand"},
                },
                "core_instance": {
                    "emr_instance_type": "r5.2xlarge",
                    "instance_count": rng.randint(2, 20),
                    "aws_market": {"spot": {"bid_price": 0.25}},
                    "ebs_volume_size": 200,
                },
                "emr_service_role": {
                    "default_emr_service_role": "default_emr_service_role"
                },
                "emr_job_flow_role": {
                    "default_emr_job_flow_role": "default_emr_job_flow_role"
                },
                "visible_to_all_users": True,
            }
        }
    )
    return {
        "emr_command": {
            "emr_cluster": cluster,
            "job_name": f"{task}-spark",
            "region": "us-east-1",
            "class": f"com.example.{task.replace('-', '_')}.Main",
            "s3_jar_path": f"s3://jars/{process}.jar",
            "spark_conf": ["spark.executor.memory=4g"],
            "spark_packages": [],
            "args": ["--date", "today"],
            "load_data": [
                {"source": f"s3://in/{task}", "destination": f"hdfs:///in/{task}"}
            ],
            "save_results": [
                {"source": f"hdfs:///out/{task}", "destination": f"s3://out/{task}"}
            ],
        }
    }


def process(rng: random.Random, index: int) -> dict:
    name = (
        f"{rng.choice(['etl', 'report', 'export', 'spark', 'sync', 'ml'])}-{index:05d}"
    )
    n_tasks = max(1, min(12, int(rng.expovariate(1 / 5))))
    names = [
        f"{rng.choice(['extract', 'load', 'transform', 'publish', 'check'])}-{i}"
        for i in range(n_tasks)
    ]
    shape = rng.choice(["chain", "fan", "random"])
    tasks = []
    for i, task in enumerate(names):
        if i == 0:
            deps = []
        elif shape == "chain":
            deps = [names[i - 1]]
        elif shape == "fan":
            deps = [names[0]] if i < n_tasks - 1 else names[1:i] or [names[0]]
        else:
            deps = rng.sample(names[:i], rng.randint(1, min(3, i)))
        attempts = rng.choice([1, 1, 2, 3, 5])
        tasks.append(
            {
                "task_definition_name": task,
                "dependencies": [
                    {"task_definition_name": d, "success_required": rng.random() > 0.1}
                    for d in deps
                ],
                "executable": _executable(rng, name, task),
                "max_attempts": attempts,
                "backoff_base_seconds": rng.choice([0, 30, 60, 300]),
                "backoff_exponent": rng.choice([1.0, 1.0, 2.0, 1.5]),
                "require_explicit_success": False,
                **(
                    {"max_runtime_seconds": rng.choice([600, 3600, 7200])}
                    if rng.random() < 0.6
                    else {}
                ),
            }
        )
    data = {
        "process_definition_name": name,
        "process_description": f"Synthetic process {index}",
        "task_definitions": tasks,
        "overlap_action": "wait" if rng.random() < 0.9 else "terminate",
        "paused": rng.random() < 0.05,
    }
    roll = rng.random()
    if roll < 0.8:
        fields = ("minutes", "hours", "day_of_month", "month", "day_of_week")
        data["schedule"] = {"cron_schedule": dict(zip(fields, rng.choice(CRONS)))}
    elif roll < 0.9:
        data["schedule"] = {
            "continuous_schedule": {"buffer_seconds": rng.choice([60, 300, 900])}
        }
    if rng.random() < 0.5:
        data["notifications"] = [
            {
                "email": {
                    "name": "team",
                    "email": f"team{index % 50}@example.com",
                    "notify_when": rng.choice(
                        ["always", "on_failure", "on_state_change_and_failures"]
                    ),
                }
            }
        ]
    return data


def generate(n: int = 10_000, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [process(rng, i) for i in range(n)]


def write(out: Path, definitions: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for d in definitions:
        (out / f"{d['process_definition_name']}.json").write_text(
            json.dumps(d), encoding="utf-8"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    defs = generate(args.processes, args.seed)
    write(args.out, defs)
    print(
        f"{len(defs)} processes, {sum(len(d['task_definitions']) for d in defs)} tasks -> {args.out}"
    )
