"""The support package as a wheel: deterministic, complete, valid, and what pip installs
from DIR/requirements.txt makes Airflow register the Quartz timetable without a plugins
folder."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import zipfile
from importlib.metadata import version


from migrate.support import SUPPORT_PACKAGE
from migrate.support.wheel import build_wheel
from migrate.target import TARGETS
from tests.support.venv import FreshVenv


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_same_sources_same_bytes():
    assert build_wheel() == build_wheel()


def test_every_module_of_the_package_is_in_it_byte_for_byte():
    name, data = build_wheel()
    files = members(data)
    expected = {
        "sundial_compat/" + p.relative_to(SUPPORT_PACKAGE).as_posix(): p.read_bytes()
        for p in SUPPORT_PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert "sundial_compat/quartz/_eval.py" in expected  # subpackages too
    shipped = {
        k: v for k, v in files.items() if not k.startswith(name.split("-py3")[0])
    }
    assert shipped == expected


def test_a_module_added_to_the_package_is_shipped_and_changes_the_version(tmp_path):
    copy = tmp_path / "sundial_compat"
    shutil.copytree(SUPPORT_PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before, _ = build_wheel(copy)
    (copy / "extra_operator.py").write_text("X = 1\n")
    after, data = build_wheel(copy)
    assert after != before
    assert members(data)["sundial_compat/extra_operator.py"] == b"X = 1\n"


def test_record_metadata_and_entry_point_are_valid():
    name, data = build_wheel()
    files = members(data)
    dist, ver, tag = name[: -len(".whl")].split("-", 2)
    assert (dist, tag) == ("sundial_compat", "py3-none-any")
    info = f"sundial_compat-{ver}.dist-info"
    assert list(files)[-1] == f"{info}/RECORD"  # RECORD last, as the spec asks
    record = {}
    for line in files[f"{info}/RECORD"].decode().splitlines():
        path, digest, size = line.rsplit(",", 2)
        record[path] = (digest, size)
    assert set(record) == set(files)
    for path, (digest, size) in record.items():
        if path.endswith("/RECORD"):
            assert (digest, size) == ("", "")
            continue
        raw = hashlib.sha256(files[path]).digest()
        b64 = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        assert (digest, size) == (f"sha256={b64}", str(len(files[path])))
    meta = files[f"{info}/METADATA"].decode()
    assert "Name: sundial-compat\n" in meta and f"Version: {ver}\n" in meta
    assert "Requires-Dist: apache-airflow>=3.3\n" in meta
    assert files[f"{info}/entry_points.txt"].decode() == (
        "[airflow.plugins]\n"
        "sundial_compat = sundial_compat.sundial_compat_plugin:SundialCompatPlugin\n"
    )
    wheel = files[f"{info}/WHEEL"].decode().splitlines()
    assert {"Wheel-Version: 1.0", "Root-Is-Purelib: true", "Tag: py3-none-any"} <= set(
        wheel
    )


def test_the_wheel_for_an_older_airflow_requires_that_minor_not_3_3():
    for minor, airflow in TARGETS.items():
        name, data = build_wheel(airflow=airflow)
        (meta,) = [v for k, v in members(data).items() if k.endswith("/METADATA")]
        requires = [
            l for l in meta.decode().splitlines() if l.startswith("Requires-Dist")
        ]
        assert requires == [f"Requires-Dist: apache-airflow>={minor}"], minor
    assert len({build_wheel(airflow=a)[0] for a in TARGETS.values()}) == len(TARGETS)


def test_convert_writes_wheel_requirements_and_dockerfile(converted_estate):
    from tests.conftest import ESTATE_OUT

    name, data = build_wheel()
    assert (ESTATE_OUT / "dist" / name).read_bytes() == data
    manifest = json.loads((ESTATE_OUT / ".sundial-migrate.json").read_text())["files"]
    for rel in (f"dist/{name}", "requirements.txt", "Dockerfile"):
        assert (
            manifest[rel] == hashlib.sha256((ESTATE_OUT / rel).read_bytes()).hexdigest()
        )
    lines = (ESTATE_OUT / "requirements.txt").read_text().splitlines()
    pins = [l for l in lines if l and not l.startswith("#")]
    # the default target is the Airflow installed here (locks/dev.txt pins both)
    pinned = ["apache-airflow"] + sorted(TARGETS["3.3"].providers)
    assert pins == [f"{p}=={version(p)}" for p in pinned] + [f"./dist/{name}"]
    docker = (ESTATE_OUT / "Dockerfile").read_text()
    assert f"FROM apache/airflow:{version('apache-airflow')}\n" in docker
    assert "pip install --no-cache-dir -r requirements.txt" in docker


PROBE = r"""
import json, sys
from airflow import plugins_manager
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
import sundial_compat
names = [p["name"] for p in plugins_manager.get_plugin_info()]
timetables = sorted(plugins_manager.get_timetables_plugins())
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)
print(json.dumps({"plugins": names, "timetables": timetables, "module": sundial_compat.__file__,
                  "errors": list(bag.import_errors), "dags": sorted(bag.dags)}))
"""


def test_pip_install_of_requirements_registers_the_plugin_without_a_plugins_folder(
    tmp_path, converted_estate
):
    """The README's step (pip install -r requirements.txt from DIR) in a fresh venv:
    the DAGs that use QuartzTimetable load and serialize with an empty plugins folder.
    """
    from tests.conftest import ESTATE_OUT

    out = tmp_path / "out"
    shutil.copytree(ESTATE_OUT, out, ignore=shutil.ignore_patterns("plugins"))
    venv = FreshVenv(tmp_path / "venv")
    venv.install_requirements(out)
    quartz_dags = out / "quartz-dags"
    quartz_dags.mkdir()
    for dag in (out / "dags").glob("*.py"):
        if "QuartzTimetable(" in dag.read_text():
            shutil.copy(dag, quartz_dags)
    assert len(list(quartz_dags.iterdir())) >= 2
    empty = tmp_path / "no-plugins"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "home"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(empty),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONDONTWRITEBYTECODE="1",
    )
    proc = venv.run(
        "-c",
        PROBE,
        str(quartz_dags),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "sundial_compat" in seen["plugins"]
    assert seen["timetables"] == ["sundial_compat.timetable.QuartzTimetable"]
    assert seen["module"].startswith(str(venv.site_packages))
    assert seen["errors"] == [] and len(seen["dags"]) == len(
        list(quartz_dags.iterdir())
    )


def test_without_the_package_those_dags_do_not_serialize(tmp_path, converted_estate):
    """The probe above can fail: with neither the plugins folder nor the package, a
    QuartzTimetable DAG does not even import."""
    from tests.conftest import ESTATE_OUT

    venv = FreshVenv(tmp_path / "venv")
    dags = tmp_path / "dags"
    dags.mkdir()
    (tmp_path / "no-plugins").mkdir()
    for dag in (ESTATE_OUT / "dags").glob("*.py"):
        if "QuartzTimetable(" in dag.read_text():
            shutil.copy(dag, dags)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "home"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(dags.parent / "no-plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    proc = venv.run(
        "-c",
        PROBE.replace("import sundial_compat\n", "sundial_compat = None\n").replace(
            "sundial_compat.__file__", "None"
        ),
        str(dags),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (
        "sundial_compat" not in seen["plugins"] and seen["errors"] and not seen["dags"]
    )
