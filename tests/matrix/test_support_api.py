"""The support package's one module that knows each Airflow minor
(``sundial_compat.airflow_api``), checked inside every Airflow of the matrix: it imports,
its exceptions are the classes that Airflow's task runner catches, the retry policy exists
exactly where the DAGs use it, and the private names its one shim relies on are where it
looks for them (this is the test that fails when they move)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from migrate.support import SUPPORT_PACKAGE
from migrate.target import TARGETS
from tests.matrix.conftest import airflow_env, matrix_python

pytestmark = pytest.mark.slow

PROBE = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from sundial_compat import airflow_api as api
import sundial_compat.task, sundial_compat.shell, sundial_compat.batch, sundial_compat.ecs
import sundial_compat.emr, sundial_compat.notify, sundial_compat.outcome, sundial_compat.retry
import sundial_compat.timetable, sundial_compat.sundial_compat_plugin
from airflow.sdk.execution_time import task_runner
out = {"private": {}}
for module, name in api.PRIVATE_NAMES:
    m = importlib.import_module(module)
    out["private"][f"{module}.{name}"] = name in vars(m) or name in getattr(m, "__annotations__", {})
from airflow.sdk.execution_time.comms import GetPreviousDagRun
out["message_fields"] = sorted(GetPreviousDagRun.model_fields)
# the classes the task runner's `except` clauses name, wherever it imports them from
import ast, inspect
caught = {}
for node in ast.walk(ast.parse(inspect.getsource(task_runner))):
    if isinstance(node, ast.ImportFrom) and node.module:
        for alias in node.names:
            if alias.name in ("AirflowSkipException", "AirflowFailException"):
                cls = getattr(importlib.import_module(node.module), alias.name)
                caught[alias.name] = issubclass(getattr(api, alias.name), cls)
out["caught"] = caught
out["retry_policy"] = api.RetryPolicy is not None
from sundial_compat.task import SundialTask
out["fail_repr"] = api.TRIGGER_FAIL_REPR
print(json.dumps(out))
"""


@pytest.mark.parametrize("minor", TARGETS)
def test_airflow_api_holds_in_that_minor(minor):
    with tempfile.TemporaryDirectory() as home:
        proc = subprocess.run(
            [str(matrix_python(minor)), "-c", PROBE, str(SUPPORT_PACKAGE.parent)],
            env=airflow_env(None, Path(home)),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["private"] and all(seen["private"].values()), seen["private"]
    assert {"dag_id", "logical_date"} <= set(seen["message_fields"])
    assert seen["caught"] and all(seen["caught"].values()), seen["caught"]
    assert seen["retry_policy"] == TARGETS[minor].retry_policy
    assert seen["fail_repr"] == "__fail__"
