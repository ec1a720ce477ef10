"""docker_image_command (ECS): one SundialEcsOperator per Sundial task."""

from __future__ import annotations

from tests.convert.executables import ecs_task
from tests.convert.test_process import findings, model_of


def test_family_defaults_and_overrides():
    m = model_of(ecs_task(), process_definition_name="ml")
    (node,) = m.tasks
    assert node.operator.name == "SundialEcsOperator"
    spec = node.arguments["task_definition_spec"].value.value
    assert spec["family"] == "ml_train"
    (container,) = spec["containerDefinitions"]
    assert (container["cpu"], container["memory"]) == (1000, 768)  # Sundial's defaults
    assert container["image"] == "repo/ecs:2" and container["command"] == ["fit"]
    assert node.arguments["cluster"].value == "sundial"
    overrides = node.arguments["overrides"].value["containerOverrides"]
    assert overrides == [{"name": "sundialTask", "command": ["fit"]}]
    assert node.arguments["deferrable"].value is True
    assert any(
        "default 1000" in f.message
        for f in findings(m, "task_definitions[train].executable.docker_image_command")
    )


def test_log_paths_are_reported():
    m = model_of(ecs_task(log_paths=["/var/log/app.log"]))
    (f,) = findings(
        m, "task_definitions[train].executable.docker_image_command.log_paths"
    )
    assert f.severity == "approximated" and "companion" in f.message
