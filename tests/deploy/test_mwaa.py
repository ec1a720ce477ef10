"""`migrate deploy DIR --to s3://BUCKET --layout mwaa` against a real moto S3 server: the
bucket an Amazon MWAA environment reads (dags/, plugins.zip, requirements.txt with
Airflow's constraints line), what Airflow 3.0 (the oldest MWAA runs of the ones we write
for) loads from it, and the mirror's ownership rules for the two shared files."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from click.testing import CliRunner

from migrate.deploy.command import deploy_command

from tests.conftest import ESTATE
from tests.deploy.conftest import Bucket
from tests.deploy.test_s3 import run, writes, recorded

PLUGINS, REQUIREMENTS = "plugins.zip", "requirements.txt"
MANIFEST = ".sundial-migrate-deploy.json"


@pytest.fixture(scope="module")
def converted_3_0(tmp_path_factory):
    from migrate.pipeline import convert

    out = tmp_path_factory.mktemp("mwaa") / "out"
    assert not convert([ESTATE], out, timezone="UTC", airflow_version="3.0").problems
    return out


@pytest.fixture
def out_3_0(tmp_path, converted_3_0):
    out = tmp_path / "out"
    shutil.copytree(converted_3_0, out)
    return out


def current_versions(bucket: Bucket) -> dict[str, str]:
    page = bucket.s3.list_object_versions(Bucket=bucket.name)
    return {v["Key"]: v["VersionId"] for v in page["Versions"] if v["IsLatest"]}


def test_the_environment_bucket_holds_what_mwaa_reads(out_3_0, bucket, aws_env):
    bucket.put("logs/elsewhere.txt", b"another team's object, outside the layout")
    code, stdout, stderr = run(
        out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa"
    )
    assert code == 0, stderr
    objects = bucket.objects()
    dags = sorted(p.name for p in (out_3_0 / "dags").glob("*.py"))
    assert sorted(k for k in objects if k.startswith("dags/")) == [
        f"dags/{n}" for n in dags
    ]
    assert set(objects) == {f"dags/{n}" for n in dags} | {
        PLUGINS,
        REQUIREMENTS,
        MANIFEST,
        "logs/elsewhere.txt",
    }
    for name in dags:
        assert objects[f"dags/{name}"] == (out_3_0 / "dags" / name).read_bytes()

    # requirements.txt: the constraints file of Airflow 3.0.6 on MWAA's Python 3.12,
    # providers unpinned (a pin that disagrees with the constraints fails the install)
    lines = [
        l for l in objects[REQUIREMENTS].decode().splitlines() if not l.startswith("#")
    ]
    assert lines[0] == (
        '--constraint "https://raw.githubusercontent.com/apache/airflow/'
        'constraints-3.0.6/constraints-3.12.txt"'
    )
    assert lines[1:] == sorted(lines[1:]) and "apache-airflow-providers-amazon" in lines
    assert not any("==" in l or l == "apache-airflow" or "/" in l for l in lines[1:])

    # plugins.zip: DIR/plugins/ at the zip's root, nothing else
    with zipfile.ZipFile(io.BytesIO(objects[PLUGINS])) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert "sundial_compat/timetable.py" in names
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        expected = sorted(
            p.relative_to(out_3_0 / "plugins").as_posix()
            for p in (out_3_0 / "plugins").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        assert names == expected

    # stdout: the environment's settings, with the object versions just written
    settings = json.loads(stdout)
    versions = current_versions(bucket)
    assert settings == {
        "DagS3Path": "dags",
        "PluginsS3Path": PLUGINS,
        "PluginsS3ObjectVersion": versions[PLUGINS],
        "RequirementsS3Path": REQUIREMENTS,
        "RequirementsS3ObjectVersion": versions[REQUIREMENTS],
    }
    recorded_files = json.loads(bucket.objects()[MANIFEST])["files"]
    assert set(recorded_files) == set(objects) - {MANIFEST, "logs/elsewhere.txt"}


def test_an_unchanged_rerun_writes_nothing_and_mwaa_sees_no_new_version(
    out_3_0, tmp_path, bucket, aws_env, moto_s3
):
    code, first, _ = run(out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa")
    assert code == 0
    # a second convert of the same estate, at another time and place: same zip bytes
    from migrate.pipeline import convert

    again = tmp_path / "again"
    convert([ESTATE], again, timezone="UTC", airflow_version="3.0")
    since = recorded(moto_s3)
    code, second, stderr = run(
        again, f"s3://{bucket.name}", aws_env, "--layout", "mwaa"
    )
    assert code == 0, stderr
    assert writes(moto_s3, since, bucket.name) == []
    assert json.loads(second) == json.loads(first)
    told = CliRunner().invoke(
        deploy_command,
        [str(again), "--to", f"s3://{bucket.name}", "--layout", "mwaa"]
        + ["--endpoint-url", aws_env],
    )
    assert told.exit_code == 0
    assert (
        "MWAA: plugins.zip and requirements.txt unchanged, no environment update"
        in (told.stderr)
    )
    (again / "plugins" / "sundial_compat" / "extra.py").write_text("X = 1\n")
    told = CliRunner().invoke(
        deploy_command,
        [str(again), "--to", f"s3://{bucket.name}", "--layout", "mwaa"]
        + ["--endpoint-url", aws_env],
    )
    assert told.exit_code == 0, told.stderr
    version = current_versions(bucket)[PLUGINS]
    assert (
        "aws mwaa update-environment --name YOUR_ENVIRONMENT --dag-s3-path dags "
        f"--plugins-s3-path plugins.zip --plugins-s3-object-version {version} "
        "--requirements-s3-path requirements.txt --requirements-s3-object-version "
        f"{json.loads(first)['RequirementsS3ObjectVersion']}"
    ) in told.stderr
    assert json.loads(told.stdout)["PluginsS3ObjectVersion"] == version


def test_another_teams_plugins_zip_is_not_replaced(out_3_0, bucket, aws_env):
    bucket.put(PLUGINS, b"PK another team's plugins")
    bucket.put("dags/their_dag.py", b"from airflow.sdk import DAG\n")
    code, stdout, stderr = run(
        out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa"
    )
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [
        f"error: s3://{bucket.name}/{PLUGINS}: exists and was not written by "
        "sundial-migrate, or changed since it wrote it; not overwritten (move it "
        "away, or re-run with --force to replace it)"
    ]
    assert set(bucket.objects()) == {PLUGINS, "dags/their_dag.py"}  # nothing written


def test_their_dags_in_dags_are_kept(out_3_0, bucket, aws_env):
    theirs = b"from airflow.sdk import DAG\n"
    bucket.put("dags/their_dag.py", theirs)
    code, _, stderr = run(out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa")
    assert code == 0, stderr
    assert bucket.objects()["dags/their_dag.py"] == theirs
    (out_3_0 / "dags" / "orders-nightly-etl.py").unlink()  # gone from DIR: ours goes
    code, _, stderr = run(out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa")
    assert code == 0, stderr
    objects = bucket.objects()
    assert "dags/orders-nightly-etl.py" not in objects
    assert objects["dags/their_dag.py"] == theirs


@pytest.mark.slow
def test_airflow_3_0_loads_the_dags_with_the_unzipped_plugins(
    out_3_0, bucket, aws_env, tmp_path
):
    """What MWAA does with the bucket: dags/ as the DAG folder, plugins.zip unpacked
    into the plugins folder; every DAG loads in Airflow 3.0, Quartz timetables too."""
    from tests.matrix.conftest import probe

    code, _, stderr = run(out_3_0, f"s3://{bucket.name}", aws_env, "--layout", "mwaa")
    assert code == 0, stderr
    objects = bucket.objects()
    dags, plugins = tmp_path / "dags", tmp_path / "plugins"
    dags.mkdir()
    for key, body in objects.items():
        if key.startswith("dags/"):
            (dags / key.split("/", 1)[1]).write_bytes(body)
    with zipfile.ZipFile(io.BytesIO(objects[PLUGINS])) as archive:
        archive.extractall(plugins)
    seen = probe("3.0", dags, plugins, "2026-01-01T00:00:30+00:00", 3)
    assert seen["import_errors"] == {} and len(seen["dags"]) == 28
    assert seen["dags"]["monthly-billing-close"]["timetable"] == "QuartzTimetable"


def test_a_bucket_without_versions_is_one_line_exit_2(out_3_0, moto_s3, aws_env):
    s3 = moto_s3.client("s3")
    s3.create_bucket(Bucket="mwaa-unversioned")
    code, stdout, stderr = run(
        out_3_0, "s3://mwaa-unversioned", aws_env, "--layout", "mwaa"
    )
    assert code == 2 and stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith("error: s3://mwaa-unversioned: versioning is not enabled")
    assert "put-bucket-versioning --bucket mwaa-unversioned" in line
    assert s3.list_objects_v2(Bucket="mwaa-unversioned").get("KeyCount") == 0


def test_a_prefix_moves_every_path(out_3_0, bucket, aws_env):
    code, stdout, stderr = run(
        out_3_0, f"s3://{bucket.name}/team-a", aws_env, "--layout", "mwaa"
    )
    assert code == 0, stderr
    settings = json.loads(stdout)
    assert (settings["DagS3Path"], settings["PluginsS3Path"]) == (
        "team-a/dags",
        "team-a/plugins.zip",
    )
    assert f"team-a/{REQUIREMENTS}" in bucket.objects("team-a/")
