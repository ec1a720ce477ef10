"""shell_script_command: SundialShellOperator."""

from __future__ import annotations

from tests.convert.test_process import findings, model_of, task


def test_script_env_and_explicit_success():
    data = task("s", script="echo hi")
    data["executable"]["shell_script_command"]["environment_variables"] = [
        {"variable_name": "A", "value": "1"}
    ]
    data["require_explicit_success"] = True
    m = model_of(data)
    (node,) = m.tasks
    assert node.operator.name == "SundialShellOperator"
    args = {k: a.value for k, a in node.arguments.items()}
    assert args["script"] == "echo hi" and args["env"] == {"A": "1"}
    assert args["require_explicit_success"] is True
    assert "working_directory" not in args
    (f,) = findings(m, "task_definitions[s].executable.shell_script_command")
    assert f.severity == "approximated" and "temporary directory" in f.message
