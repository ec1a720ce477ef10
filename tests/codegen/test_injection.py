"""Every string from Sundial is data: hostile names, scripts, env values and arguments end up as
exactly the same strings in the loaded Airflow tasks, and the file always parses, is
Black-clean and loads (no code, no Jinja)."""

from __future__ import annotations

import collections
import os

import black
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.codegen.python import render_dag
from migrate.convert import convert_estate
from migrate.mapping.rules import MappingRules
from migrate.support import SUPPORT_PACKAGE
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from tests.conftest import load_dagbag, use_plugins

NASTY = [
    "'",
    '"',
    '"""',
    "'''",
    "\\",
    "\\'",
    "\n",
    "\r\n",
    "\x00",
    "\t",
    "{{ ds }}",
    "{% raw %}",
    "{#",
    "#}",
    "${#arr[@]}",
    "__import__('os').system('echo pwned')",
    "\"); import os; os.system('x'); (\"",
    "é",
    "日本語",
    "🚀",
    "\u202e",
    "\ud800",
    "run.sh",
    " .sh",
    "a.bash",
    "$(whoami)",
    "`id`",
    "<<'EOF'\nx\nEOF",
]

hostile = st.one_of(
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join),
    st.text(st.characters(blacklist_categories=()), max_size=30),
)
name = hostile.filter(lambda s: s.strip() != "")

RULES = MappingRules.load()


def _definition(
    process_name,
    task_a,
    task_b,
    script,
    env_name,
    env_value,
    description,
    image,
    queue,
    arg,
):
    env = [{"variable_name": env_name, "value": env_value}]
    return {
        "process_definition_name": process_name,
        "process_description": description,
        "task_definitions": [
            {
                "task_definition_name": task_a,
                "dependencies": [],
                "executable": {
                    "shell_script_command": {
                        "script": script,
                        "environment_variables": env,
                    }
                },
                "max_attempts": 2,
                "backoff_base_seconds": 1,
                "backoff_exponent": 2.0,
            },
            {
                "task_definition_name": task_b,
                "dependencies": [
                    {"task_definition_name": task_a, "success_required": False}
                ],
                "executable": {
                    "batch_image_command": {
                        "image": image,
                        "tag": "1",
                        "command": [arg, script],
                        "memory": 512,
                        "vCpus": 1,
                        "environment_variables": env,
                        "job_queue": queue,
                    }
                },
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            },
        ],
    }


def _render_everything(task):
    """What Airflow does before execute: render the task's template fields."""
    secrets = collections.defaultdict(lambda: "<secret>")
    task.render_template_fields({"ds": "2026-01-01", "var": {"value": secrets}})


@settings(
    max_examples=int(os.environ.get("SUNDIAL_INJECTION_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    process_name=name,
    task_a=name,
    task_b=name,
    script=hostile,
    env_name=name.filter(
        lambda s: "PASSWORD" not in s.upper()
        and "TOKEN" not in s.upper()
        and "KEY" not in s.upper()
        and "SECRET" not in s.upper()
        and "CREDENTIAL" not in s.upper()
    ),
    env_value=hostile,
    description=hostile,
    image=name,
    queue=name,
    arg=hostile,
)
def test_hostile_strings_stay_data(
    tmp_path_factory,
    process_name,
    task_a,
    task_b,
    script,
    env_name,
    env_value,
    description,
    image,
    queue,
    arg,
):
    if task_a == task_b:
        task_b = task_b + "2"
    data = _definition(
        process_name,
        task_a,
        task_b,
        script,
        env_name,
        env_value,
        description,
        image,
        queue,
        arg,
    )
    process = read_process(data, SourceRef("hostile.json"))
    assert not isinstance(process, list), [str(p) for p in process]
    (model,) = convert_estate([process], RULES, "UTC")
    source = render_dag(model)
    compile(source, model.file, "exec")
    assert black.format_str(source, mode=black.Mode()) == source

    dags = tmp_path_factory.mktemp("hostile")
    (dags / "dag.py").write_text(source, encoding="utf-8")
    use_plugins(SUPPORT_PACKAGE.parent)  # the folder DIR/plugins/ is a copy of
    bag = load_dagbag(dags)
    assert bag.import_errors == {}
    (dag,) = bag.dags.values()
    assert process_name in dag.doc_md
    shell = dag.get_task(model.task_map[task_a])
    assert shell.script == script
    assert shell.env == {env_name: env_value}
    submit = dag.get_task(model.task_map[task_b])
    # No template fields: Airflow never renders anything of these tasks as Jinja.
    assert shell.template_fields == () and submit.template_fields == ()
    _render_everything(submit)
    overrides = submit.container_overrides
    assert overrides["command"] == [arg, script]
    assert overrides["environment"] == [{"name": env_name, "value": env_value}]
    assert submit.job_queue == queue
    # the job definition is a JSON document in the file: the same strings come back
    spec = submit.job_definition_spec
    assert spec["containerProperties"]["image"] == f"{image}:1"
    assert spec["containerProperties"]["command"] == [arg, script]
    assert spec["containerProperties"]["environment"] == [
        {"name": env_name, "value": env_value}
    ]
