"""The support package and the generated DAG files use Airflow's public API only: every
``airflow`` import they make is listed here and none is under a leading-underscore module,
of a leading-underscore name, or of the task SDK's ``execution_time`` internals; no
private attribute of anything but our own objects is read.  The one access no Airflow
minor offers publicly is declared in ``sundial_compat.airflow_api.PRIVATE_NAMES``
(tests/matrix/test_support_api.py checks it in every minor)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migrate.support import SUPPORT_PACKAGE
from migrate.target import MINORS
from tests.conftest import ESTATE

SHIM = SUPPORT_PACKAGE / "airflow_api.py"


def airflow_imports(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(module, name) of every ``import airflow...`` / ``from airflow... import name``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (a.name, None) for a in node.names if a.name.split(".")[0] == "airflow"
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "airflow":
                found += [(node.module, a.name) for a in node.names]
    return found


def private(module: str, name: str | None) -> bool:
    parts = module.split(".") + ([name] if name else [])
    return any(p.startswith("_") for p in parts) or "execution_time" in parts


def own_private_attributes(trees) -> set[str]:
    """``_name`` attributes the support package defines itself (``self._x = ...``, its own
    ``def _x``)."""
    own = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_"):
                own.add(node.name)
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                for t in targets:
                    if isinstance(t, ast.Attribute) and t.attr.startswith("_"):
                        own.add(t.attr)
    return own


def private_attributes(tree: ast.AST, own: set[str]) -> list[str]:
    out = []
    for node in ast.walk(tree):
        attr = None
        if isinstance(node, ast.Attribute):
            attr = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            attr = node.args[1].value
        if (
            attr
            and attr.startswith("_")
            and not attr.startswith("__")
            and attr not in own
        ):
            out.append(attr)
    return out


def support_trees():
    return {
        p.relative_to(SUPPORT_PACKAGE).as_posix(): ast.parse(p.read_text())
        for p in sorted(SUPPORT_PACKAGE.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def test_the_checks_can_fail():
    tree = ast.parse(
        "from airflow._shared.timezones import timezone\n"
        "from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance\n"
        "import airflow.sdk\n"
        "x = timetable._run_immediately\n"
    )
    imports = airflow_imports(tree)
    assert [private(m, n) for m, n in imports] == [True, True, False]
    assert private_attributes(tree, set()) == ["_run_immediately"]


def test_support_package_imports_are_public():
    trees = support_trees()
    shim = __import__(
        "migrate.support.sundial_compat.airflow_api", fromlist=["PRIVATE_NAMES"]
    )
    declared = {m for m, _ in shim.PRIVATE_NAMES}
    listed = []
    for rel, tree in trees.items():
        for module, name in airflow_imports(tree):
            listed.append((rel, module, name))
            if private(module, name):
                # only the shim, and only the modules it declares
                assert rel == "airflow_api.py" and (
                    module in declared or f"{module}.{name}" in declared
                ), (rel, module, name)
    assert len(listed) >= 15  # the walk sees the package's imports
    own = own_private_attributes(trees.values())
    for rel, tree in trees.items():
        assert private_attributes(tree, own) == [], rel


@pytest.mark.parametrize("minor", MINORS)
def test_generated_dags_import_public_names_only(minor, tmp_path):
    from migrate.pipeline import convert

    convert([ESTATE], tmp_path, airflow_version=minor, cache=False)
    files = sorted((tmp_path / "dags").glob("*.py"))
    assert len(files) >= 20
    seen = set()
    for path in files:
        tree = ast.parse(path.read_text())
        for module, name in airflow_imports(tree):
            seen.add((module, name))
            assert not private(module, name), (path.name, module, name)
        assert private_attributes(tree, set()) == [], path.name
    assert ("airflow.sdk", "DAG") in seen
