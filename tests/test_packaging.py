"""What users install: the sdist, the wheel built from it, and the CLI run from that wheel
in a fresh virtualenv, from a directory outside the checkout.

A checkout hides packaging bugs (a file read through ``__file__`` that only exists beside
the sources, a package left out of the build): these tests build the distributions the way
a user or an Airflow image does and use nothing of the checkout but its fixtures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ESTATE, ROOT


def _packages_on_disk() -> set[str]:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "migrate").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    return found | {"migrate.mappings"}


def test_pyproject_names_every_package():
    """The package list is explicit (mappings/ is installed as migrate.mappings), so a new
    subpackage left out of it would be missing from every install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(config["tool"]["setuptools"]["packages"]) == _packages_on_disk()
    assert config["tool"]["setuptools"]["package-dir"] == {
        "migrate.mappings": "mappings"
    }


def _runtime_files() -> set[str]:
    """Every file the installed tool may read: its modules, the support code it copies
    into DIR/plugins/, the default mapping rules."""
    files = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "migrate").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    files |= {
        "migrate/mappings/" + p.name
        for p in (ROOT / "mappings").iterdir()
        if p.is_file() and p.suffix in (".py", ".yaml")
    }
    return files


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """``python -m build``: the sdist, then the wheel built from that sdist (so a file the
    sdist forgets is missing from the wheel too)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.mark.slow
def test_wheel_holds_every_runtime_file(dists):
    with zipfile.ZipFile(dists["wheel"]) as whl:
        names = set(whl.namelist())
        entry_points = whl.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
        shipped = whl.read("migrate/mappings/default.yaml")
    package_files = {n for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert package_files == _runtime_files()
    assert shipped == (ROOT / "mappings" / "default.yaml").read_bytes()
    assert "migrate = migrate.cli:main" in entry_points


def _venv_with(wheel: Path, where: Path) -> Path:
    """A fresh virtualenv with the wheel and its dependencies, as `pip install` gives them."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    pip = subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return where / "bin" / "migrate"


@pytest.mark.slow
def test_installed_wheel_exports_converts_and_diffs(dists, tmp_path):
    """The README's "Use it" path: export from a (fixture) Sundial, convert, diff, with the
    installed `migrate`, run from a directory that has nothing of the checkout."""
    from fixtures.server import FixtureServer

    migrate = _venv_with(dists["wheel"], tmp_path / "venv")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV"))
    }
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow-home")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(migrate), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    where = run("--version")
    assert where.returncode == 0 and "0.1.0" in where.stdout, where.stderr

    with FixtureServer(history_days=10) as sundial:
        exported = run(
            "export", "--url", sundial.url, "--out", "export", "--history-days", "10"
        )
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((work / "export" / "manifest.json").read_text())
    assert manifest["counts"]["process_definitions"] == 28

    converted = run("convert", "export", "--out", "airflow")
    assert converted.returncode == 0, converted.stderr[-3000:]
    assert "error" not in converted.stderr.lower()
    dags = sorted((work / "airflow" / "dags").glob("*.py"))
    assert len(dags) == 28
    support = work / "airflow" / "plugins" / "sundial_compat"
    assert (support / "sundial_compat_plugin.py").is_file()
    assert (support / "quartz" / "_eval.py").is_file()
    report = json.loads((work / "airflow" / "report" / "parity.json").read_text())
    assert report["summary"]["processes_converted"] == 28
    # The default rules were found and named the same way as in the checkout.
    provenance = (work / "airflow" / "report" / "provenance.json").read_text()
    assert "mappings/default.yaml:defaults." in provenance
    assert "site-packages" not in provenance

    diffed = run("diff", "export", "--dags", "airflow/dags", "--history", "export")
    assert diffed.returncode == 0, diffed.stdout[-3000:] + diffed.stderr[-3000:]
    assert "PARITY" in diffed.stdout
    # A first run shows the tool's own lines only: no dependency's warnings in between.
    for step in (exported, converted, diffed):
        assert "Warning" not in step.stdout + step.stderr, step.stderr[-2000:]

    # Going live from the installed package: the support code as a wheel pinned beside
    # the Airflow the DAGs were checked with, and a deploy to a folder.
    requirements = (work / "airflow" / "requirements.txt").read_text()
    assert "apache-airflow==" in requirements and "dist/sundial_compat" in requirements
    assert list((work / "airflow" / "dist").glob("sundial_compat-*.whl"))
    deployed = run("deploy", "airflow", "--to", str(work / "live-dags"))
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert len(list((work / "live-dags").glob("*.py"))) == 28

    # The same estate converted from the checkout gives the same DAG files.
    from migrate.pipeline import convert

    convert([ESTATE], tmp_path / "from-checkout")
    from_wheel = run("convert", str(ESTATE), "--out", "estate-out", "-q")
    assert from_wheel.returncode == 0, from_wheel.stderr[-3000:]
    for dag in (tmp_path / "from-checkout" / "dags").glob("*.py"):
        assert (
            work / "estate-out" / "dags" / dag.name
        ).read_bytes() == dag.read_bytes()
