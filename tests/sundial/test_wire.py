"""Reading Sundial's wire shape: all three generations, defaults, and one line per problem."""

from __future__ import annotations

import copy

import pytest

from migrate.problems import Problem
from migrate.sundial.model import (
    BatchCommand,
    ContinuousSchedule,
    CronSchedule,
    DockerCommand,
    EmailNotification,
    EmrCommand,
    NewEmrCluster,
    PagerDutyNotification,
    SourceRef,
)
from migrate.sundial.wire import read_process

SRC = SourceRef("defs/x.json")


def shell_task(name="a", deps=(), **extra):
    task = {
        "task_definition_name": name,
        "dependencies": [
            {"task_definition_name": d, "success_required": r} for d, r in deps
        ],
        "executable": {"shell_script_command": {"script": "echo hi"}},
        "max_attempts": 1,
        "backoff_base_seconds": 0,
    }
    task.update(extra)
    return task


def process(**extra):
    data = {
        "process_definition_name": "p",
        "task_definitions": [shell_task()],
        "overlap_action": "wait",
    }
    data.update(extra)
    return data


def ok(data):
    result = read_process(data, SRC)
    assert not isinstance(result, list), [str(p) for p in result]
    return result


def problems(data) -> list[str]:
    result = read_process(data, SRC)
    assert isinstance(result, list), "expected problems"
    assert all(isinstance(p, Problem) for p in result)
    return [str(p) for p in result]


def test_defaults_from_the_specs_are_applied():
    p = ok({"process_definition_name": "p", "task_definitions": [shell_task()]})
    t = p.tasks[0]
    assert p.overlap_action == "wait"
    assert t.backoff_exponent == 1.0
    assert t.require_explicit_success is False
    assert p.paused is None and p.schedule is None and p.notifications == ()


def test_2016_generation_subscriptions_and_docker():
    p = ok(
        process(
            subscriptions=[{"name": "ops", "email": "ops@example.com"}],
            task_definitions=[
                shell_task(
                    executable={
                        "docker_image_command": {
                            "image": "repo/img",
                            "command": ["run"],
                            "log_paths": ["/var/log/x"],
                        }
                    }
                )
            ],
        )
    )
    assert p.generations == ("2016-02",)
    assert p.notifications == (
        EmailNotification(
            "ops", "ops@example.com", "on_state_change_and_failures", True
        ),
    )
    ex = p.tasks[0].executable
    assert (
        isinstance(ex, DockerCommand)
        and ex.tag == "latest"
        and ex.cpu is None
        and ex.log_paths == ("/var/log/x",)
    )


def test_2018_docker_with_env_and_role_narrows_to_2018():
    p = ok(
        process(
            task_definitions=[
                shell_task(
                    executable={
                        "docker_image_command": {
                            "image": "i",
                            "command": [],
                            "taskRoleArn": "arn:role",
                            "environment_variables": [
                                {"variable_name": "A", "value": "1"}
                            ],
                        }
                    }
                )
            ]
        )
    )
    assert p.generations == ("2018-12",)


def test_2019_batch_emr_and_notifications():
    p = ok(
        process(
            schedule={
                "cron_schedule": {
                    "minutes": "0",
                    "hours": "5",
                    "day_of_month": "?",
                    "month": "*",
                    "day_of_week": "MON-FRI",
                }
            },
            notifications=[
                {"email": {"name": "n", "email": "e@x", "notify_when": "always"}},
                {
                    "pagerduty": {
                        "service_key": "k",
                        "num_consecutive_failures": 3,
                        "api_url": "https://eu",
                    }
                },
            ],
            task_definitions=[
                shell_task(
                    "b",
                    executable={
                        "batch_image_command": {
                            "image": "i",
                            "tag": "1",
                            "command": ["x"],
                            "memory": 512,
                            "vCpus": 1,
                        }
                    },
                ),
                shell_task(
                    "e",
                    executable={
                        "emr_command": {
                            "emr_cluster": {
                                "new_emr_cluster": {
                                    "name": "c",
                                    "applications": ["Spark"],
                                    "s3_log_uri": "s3://l",
                                    "master_instance": {
                                        "emr_instance_type": "m5.xlarge",
                                        "instance_count": 1,
                                        "aws_market": {"spot": {"bid_price": 0.12}},
                                    },
                                    "emr_service_role": {
                                        "default_emr_service_role": "default_emr_service_role"
                                    },
                                    "emr_job_flow_role": {
                                        "custom_emr_job_flow_role": {
                                            "role_name": "MyRole"
                                        }
                                    },
                                }
                            },
                            "job_name": "j",
                            "class": "C",
                            "s3_jar_path": "s3://j.jar",
                            "spark_conf": [],
                            "args": [],
                        }
                    },
                ),
            ],
        )
    )
    assert set(p.generations) == {"2018-12", "2019-07"}
    assert p.schedule == CronSchedule("0", "5", "?", "*", "MON-FRI")
    assert isinstance(p.notifications[1], PagerDutyNotification)
    batch = p.task("b").executable
    assert (
        isinstance(batch, BatchCommand) and batch.job_queue is None and batch.vcpus == 1
    )
    emr = p.task("e").executable
    assert isinstance(emr, EmrCommand) and emr.region == "us-east-1"
    assert isinstance(emr.cluster, NewEmrCluster)
    assert (
        emr.cluster.service_role == "EMR_DefaultRole"
        and emr.cluster.job_flow_role == "MyRole"
    )
    assert emr.cluster.release_label == "emr-5.10.0"
    assert (
        emr.cluster.master.market == "SPOT" and emr.cluster.master.bid_price == "0.12"
    )


def test_mixing_generations_is_a_problem():
    lines = problems(
        process(
            subscriptions=[],
            notifications=[],
        )
    )
    assert any("notifications" in line and "generation" in line for line in lines)


def test_continuous_schedule_without_buffer():
    assert ok(
        process(schedule={"continuous_schedule": {}})
    ).schedule == ContinuousSchedule(None)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda d: d["task_definitions"][0].update(max_attempts="three"),
            "task_definitions[a].max_attempts: expected a whole number, got string 'three'",
        ),
        (
            lambda d: d["task_definitions"][0].update(max_attempts=0),
            "task_definitions[a].max_attempts: must be at least 1, got 0",
        ),
        (
            lambda d: d["task_definitions"][0].update(backoff_exponent=0),
            "backoff_exponent: must be greater than 0",
        ),
        (
            lambda d: d["task_definitions"][0].pop("executable"),
            "task_definitions[a].executable: is missing",
        ),
        (
            lambda d: d.update(overlap_action="kill"),
            "overlap_action: 'kill' is not one of wait, terminate",
        ),
        (
            lambda d: d.update(schedule={"cron_schedule": {"minutes": "0"}}),
            "schedule.cron_schedule.hours: is missing",
        ),
        (
            lambda d: d["task_definitions"].append(shell_task("a")),
            "duplicate task name",
        ),
        (
            lambda d: d["task_definitions"][0].update(
                dependencies=[{"task_definition_name": "zz"}]
            ),
            "depends on 'zz', which is not a task of this process",
        ),
        (lambda d: d.update(task_definitions=[]), "task_definitions: is empty"),
    ],
)
def test_each_problem_is_one_line_naming_file_process_and_field(mutate, expected):
    data = process()
    mutate(data)
    lines = problems(data)
    assert len(lines) == 1, lines
    assert lines[0].startswith("defs/x.json: process 'p': ")
    assert expected in lines[0]
    assert "\n" not in lines[0]


def test_cycle_is_named():
    data = process(
        task_definitions=[
            shell_task("a", [("b", True)]),
            shell_task("b", [("a", False)]),
        ]
    )
    (line,) = problems(data)
    assert "dependency cycle: a -> b -> a" in line


def test_unknown_fields_are_kept_for_the_report():
    data = process(owner_team="x")
    data["task_definitions"][0]["priority"] = 5
    p = ok(data)
    assert ("owner_team", "x") in p.unknown_fields
    assert ("task_definitions[a].priority", 5) in p.unknown_fields


def test_required_and_optional_twice_is_the_api_read_back_bug():
    data = process(
        task_definitions=[shell_task("a"), shell_task("b", [("a", True), ("a", False)])]
    )
    assert ok(data).doubled_dependencies == (("b", "a"),)


def test_present_fields_are_recorded():
    p = ok(process(paused=True))
    assert "paused" in p.present_fields
    assert (
        "task_definitions[a].executable.shell_script_command.script" in p.present_fields
    )
    assert "task_definitions[a].max_attempts" in p.present_fields


def test_original_data_is_not_mutated():
    data = process()
    before = copy.deepcopy(data)
    ok(data)
    assert data == before


def test_any_value_anywhere_is_a_model_or_problems_never_an_exception():
    """The class of issue 19: a wrong JSON type or size in any field of a definition
    makes that definition invalid (problems, each one line), never an exception that
    would stop the estate."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.sundial_strategies import definitions, json_values, replaced, value_paths

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def check(data):
        definition = data.draw(definitions())
        paths = list(value_paths(definition))
        path = data.draw(st.sampled_from(paths))
        value = data.draw(json_values())
        result = read_process(replaced(definition, path, value), SRC)
        if isinstance(result, list):
            assert result and all(isinstance(p, Problem) for p in result)
            assert all("\n" not in str(p) for p in result)

    check()
