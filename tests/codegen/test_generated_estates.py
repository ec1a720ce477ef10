"""Hypothesis-generated Sundial processes (every executor, random dependency graphs, retries,
schedules) convert into DAGs that load, serialize and read back as the definitions imply.
"""

from __future__ import annotations

import os

import black

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.codegen.python import render_dag
from migrate.convert import convert_estate
from migrate.mapping.rules import MappingRules
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process
from migrate.support import SUPPORT_PACKAGE
from tests.codegen.test_airflow_readback import CHECKS
from tests.conftest import load_dagbag, use_plugins
from tests.sundial_strategies import CRONS, names

RULES = MappingRules.load()
BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY311})


def env():
    return st.lists(
        st.fixed_dictionaries(
            {
                "variable_name": st.sampled_from(["A", "B_C", "DB_PASSWORD", "x.y"]),
                "value": st.text(max_size=8),
            }
        ),
        max_size=2,
        unique_by=lambda e: e["variable_name"],
    )


executables = st.one_of(
    st.builds(
        lambda s, e: {
            "shell_script_command": {"script": s, "environment_variables": e}
        },
        st.text(max_size=40),
        env(),
    ),
    st.builds(
        lambda q, e, cmd: {
            "batch_image_command": {
                "image": "repo/img",
                "tag": "v1",
                "command": cmd,
                "memory": 1024,
                "vCpus": 2,
                "environment_variables": e,
                **({"job_queue": q} if q else {}),
            }
        },
        st.one_of(st.none(), st.sampled_from(["gpu", "fast-{{ q }}"])),
        env(),
        st.lists(st.text(max_size=6), max_size=3),
    ),
    st.builds(
        lambda cpu, e: {
            "docker_image_command": {
                "image": "repo/ecs",
                "tag": "2",
                "command": ["run"],
                "log_paths": [],
                "environment_variables": e,
                **({"cpu": cpu} if cpu else {}),
            }
        },
        st.one_of(st.none(), st.integers(1, 4096)),
        env(),
    ),
    st.builds(
        lambda existing, loads: {
            "emr_command": {
                "emr_cluster": (
                    {"existing_emr_cluster": {"cluster_id": "j-ABC"}}
                    if existing
                    else {
                        "new_emr_cluster": {
                            "name": "c",
                            "applications": ["Spark", "Hadoop"],
                            "s3_log_uri": "s3://logs",
                            "master_instance": {
                                "emr_instance_type": "m5.xlarge",
                                "instance_count": 1,
                                "aws_market": {"on_demand": "on_demand"},
                            },
                            "emr_service_role": {
                                "default_emr_service_role": "default_emr_service_role"
                            },
                            "emr_job_flow_role": {
                                "default_emr_job_flow_role": "default_emr_job_flow_role"
                            },
                        }
                    }
                ),
                "job_name": "job",
                "class": "com.x.Main",
                "s3_jar_path": "s3://jars/x.jar",
                "spark_conf": ["spark.a=1"],
                "args": ["--d", "{{ ds }}"],
                "load_data": [
                    {"source": f"s3://in/{i}", "destination": f"hdfs:///in/{i}"}
                    for i in range(loads)
                ],
            }
        },
        st.booleans(),
        st.integers(0, 2),
    ),
)


@st.composite
def processes(draw):
    task_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    tasks = []
    for i, task_name in enumerate(task_names):
        earlier = task_names[:i]
        deps = (
            draw(
                st.lists(
                    st.sampled_from(earlier), unique=True, max_size=min(3, len(earlier))
                )
            )
            if earlier
            else []
        )
        tasks.append(
            {
                "task_definition_name": task_name,
                "dependencies": [
                    {"task_definition_name": d, "success_required": draw(st.booleans())}
                    for d in deps
                ],
                "executable": draw(executables),
                "max_attempts": draw(st.integers(1, 4)),
                "backoff_base_seconds": draw(st.integers(0, 120)),
                "backoff_exponent": draw(st.sampled_from([1.0, 1.5, 2.0])),
                **(
                    {"max_runtime_seconds": draw(st.integers(1, 7200))}
                    if draw(st.booleans())
                    else {}
                ),
            }
        )
    schedule = draw(
        st.one_of(
            st.none(),
            st.just({"continuous_schedule": {}}),
            st.integers(1, 3600).map(
                lambda b: {"continuous_schedule": {"buffer_seconds": b}}
            ),
            st.sampled_from(CRONS).map(
                lambda c: {
                    "cron_schedule": dict(
                        zip(
                            (
                                "minutes",
                                "hours",
                                "day_of_month",
                                "month",
                                "day_of_week",
                            ),
                            c,
                        )
                    )
                }
            ),
        )
    )
    data = {
        "process_definition_name": draw(names),
        "task_definitions": tasks,
        "overlap_action": draw(st.sampled_from(["wait", "terminate"])),
        "paused": draw(st.booleans()),
    }
    if schedule:
        data["schedule"] = schedule
    if draw(st.booleans()):
        data["notifications"] = [
            {
                "email": {
                    "name": "n",
                    "email": "a@b.c",
                    "notify_when": draw(
                        st.sampled_from(["always", "never", "on_failure"])
                    ),
                }
            }
        ]
    return data


@settings(
    max_examples=int(os.environ.get("SUNDIAL_GENERATED_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(data=processes())
def test_generated_process_loads_and_reads_back(tmp_path_factory, data):
    process = read_process(data, SourceRef("generated.json"))
    assert not isinstance(process, list), [str(p) for p in process]
    (model,) = convert_estate([process], RULES, "UTC")
    source = render_dag(model)
    assert black.format_str(source, mode=BLACK_MODE) == source
    folder = tmp_path_factory.mktemp("generated")
    (folder / model.file.split("/")[-1]).write_text(source, encoding="utf-8")
    use_plugins(SUPPORT_PACKAGE.parent)
    bag = load_dagbag(folder)
    assert bag.import_errors == {}
    (dag,) = bag.dags.values()
    from airflow.serialization.serialized_objects import DagSerialization

    DagSerialization.to_dict(dag)
    entry = {
        "tasks": model.task_map,
        "findings": [f.as_dict() for f in model.findings],
        "dag_id": model.dag_id,
    }
    for check in CHECKS:
        check(process, dag, entry)


def test_layout_matches_black_on_a_synthetic_estate():
    """The direct Black-style printer (codegen/layout.py) against Black itself."""
    from fixtures.synthetic import generate

    for definition in generate(
        int(os.environ.get("SUNDIAL_LAYOUT_EXAMPLES", "80")), seed=11
    ):
        process = read_process(definition, SourceRef("synthetic.json"))
        (model,) = convert_estate([process], RULES, "UTC")
        source = render_dag(model)
        assert black.format_str(source, mode=BLACK_MODE) == source, model.dag_id


def test_layout_matches_black_with_very_long_names():
    """Task ids can be ~200 characters; Black would switch to parenthesised layouts for
    statements whose head does not fit, so variable names are kept short."""
    long_a, long_b = "extract " * 24, "load.the.warehouse " * 10
    definition = {
        "process_definition_name": "p" * 190,
        "task_definitions": [
            {
                "task_definition_name": long_a,
                "dependencies": [],
                "executable": {
                    "batch_image_command": {
                        "image": "i" * 120,
                        "command": ["x" * 100],
                        "memory": 1,
                        "vCpus": 1,
                    }
                },
                "max_attempts": 2,
                "backoff_base_seconds": 1,
            },
            {
                "task_definition_name": long_b,
                "dependencies": [
                    {"task_definition_name": long_a, "success_required": False}
                ],
                "executable": {"shell_script_command": {"script": "true"}},
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            },
        ],
    }
    process = read_process(definition, SourceRef("long.json"))
    (model,) = convert_estate([process], RULES, "UTC")
    source = render_dag(model)
    assert black.format_str(source, mode=BLACK_MODE) == source
    assert (
        max(len(line) for line in source.splitlines() if " = " in line and "(" in line)
        <= 88
    )
