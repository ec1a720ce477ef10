"""Arguments shared by every task that takes them move into the DAG's default_args: the
table of which operator takes what matches the installed Airflow, the values and their
provenance move intact, and nothing moves when a task would end up different."""

from __future__ import annotations

import importlib
import inspect

import pytest

from migrate.convert.executables import HOISTABLE
from migrate.convert.process import OPERATOR_TAKES
from migrate.ir import Seconds
from migrate.mapping.rules import MappingRules
from migrate.support import SUPPORT_PACKAGE
from tests.conftest import use_plugins
from tests.convert.test_process import model_of, task

RULES = MappingRules.load()


def _parameters(cls) -> set[str]:
    """What Airflow's apply_defaults may fill from default_args: the parameters of every
    __init__ in the class's MRO (each is wrapped and fills its own)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return names


@pytest.mark.parametrize(
    "ref", sorted(OPERATOR_TAKES, key=lambda r: (r.module, r.name)), ids=str
)
def test_table_matches_the_operators_signatures(ref):
    use_plugins(SUPPORT_PACKAGE.parent)
    cls = getattr(importlib.import_module(ref.module), ref.name)
    assert OPERATOR_TAKES[ref] == _parameters(cls) & set(HOISTABLE), ref


def batch(name, deps=(), attempts=1, **extra):
    data = task(name, deps, attempts, **extra)
    data["executable"] = {
        "batch_image_command": {
            "image": "repo/img",
            "tag": "1",
            "command": ["run"],
            "memory": 512,
            "vCpus": 1,
        }
    }
    return data


def emr_existing(name, region, steps=2):
    data = task(name)
    data["executable"] = {
        "emr_command": {
            "emr_cluster": {"existing_emr_cluster": {"cluster_id": "j-1"}},
            "job_name": "job",
            "region": region,
            "class": "com.x.Main",
            "s3_jar_path": "s3://jars/x.jar",
            "load_data": [
                {"source": f"s3://in/{i}", "destination": f"hdfs:///in/{i}"}
                for i in range(steps - 1)
            ],
        }
    }
    return data


def test_aws_connection_and_region_move_with_their_provenance():
    m = model_of(batch("a"), batch("b", [("a", True)]))
    default_args = m.arguments["default_args"]
    assert default_args.value == {
        "owner": "airflow",
        "aws_conn_id": "aws_default",
        "region_name": "us-east-1",
        "deferrable": True,
        "retries": 0,
    }
    assert "aws_conn_id: the same in every task" in default_args.provenance.rule
    assert "setting region_name from" in default_args.provenance.rule
    for node in m.tasks:
        assert "aws_conn_id" not in node.arguments
        assert "region_name" not in node.arguments
    # shell tasks do not take them, so they do not block the move
    m = model_of(batch("a"), task("s"), batch("b"))
    assert m.arguments["default_args"].value["aws_conn_id"] == "aws_default"


def test_sundial_fields_of_moved_arguments_stay_in_the_provenance():
    m = model_of(
        emr_existing("a", "eu-west-1"), emr_existing("b", "eu-west-1", steps=3)
    )
    default_args = m.arguments["default_args"]
    assert default_args.value["region_name"] == "eu-west-1"
    assert default_args.value["deferrable"] is True
    assert set(default_args.provenance.fields) >= {
        "task_definitions[a].executable.emr_command.region",
        "task_definitions[b].executable.emr_command.region",
    }


def test_different_values_stay_on_the_tasks():
    m = model_of(emr_existing("a", "eu-west-1"), emr_existing("b", "us-west-2"))
    assert "region_name" not in m.arguments["default_args"].value
    assert m.task("a").arguments["region_name"].value == "eu-west-1"
    assert m.task("b").arguments["region_name"].value == "us-west-2"
    assert m.arguments["default_args"].value["aws_conn_id"] == "aws_default"


def test_a_per_task_rule_keeps_its_value_on_its_tasks(tmp_path):
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "version: 1\nrules:\n"
        "  - {name: other account, processes: ['*'], tasks: [b], set: {aws_conn_id: x}}\n"
    )
    rules = MappingRules.load([rules_file])
    m = model_of(batch("a"), batch("b"), rules=rules)
    assert "aws_conn_id" not in m.arguments["default_args"].value
    assert m.task("a").arguments["aws_conn_id"].value == "aws_default"
    assert m.task("b").arguments["aws_conn_id"].value == "x"
    assert m.arguments["default_args"].value["region_name"] == "us-east-1"


def test_mapping_default_args_are_never_overridden(tmp_path):
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "version: 1\ndefaults:\n  default_args: {aws_conn_id: other, retries: 5}\n"
    )
    rules = MappingRules.load([rules_file])
    m = model_of(batch("a"), batch("b"), rules=rules)
    assert m.arguments["default_args"].value["aws_conn_id"] == "other"
    assert m.task("a").arguments["aws_conn_id"].value == "aws_default"
    assert m.arguments["default_args"].value["retries"] == 5
    assert m.task("a").arguments["retries"].value == 0


def test_retries_move_only_when_every_task_has_the_same():
    m = model_of(task("a", attempts=3), task("b", [("a", True)], attempts=3))
    default_args = m.arguments["default_args"].value
    assert default_args["retries"] == 2
    assert default_args["retry_delay"] == Seconds(10)
    assert "retries" not in m.task("a").arguments
    # one Batch task per Sundial task: its retries move like any other's
    m = model_of(batch("a", attempts=3), batch("b", attempts=3))
    assert m.arguments["default_args"].value["retries"] == 2
    # different retries stay on the tasks
    m = model_of(batch("a", attempts=3), batch("b", attempts=2))
    assert "retries" not in m.arguments["default_args"].value
    assert m.task("a").arguments["retries"].value == 2
    # a single task keeps its own
    m = model_of(task("a", attempts=3))
    assert m.task("a").arguments["retries"].value == 2
