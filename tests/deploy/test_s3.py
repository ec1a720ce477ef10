"""`migrate deploy DIR --to s3://...` against a real moto S3 server: a mirror that writes
only what changed, never touches what it did not write (unless --force), and says in one
line why it cannot run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import boto3
from click.testing import CliRunner

from migrate.deploy.command import deploy_command
from migrate.deploy.core import deploy
from tests.conftest import ROOT

PREFIX = "prod/dags"
MANIFEST_KEY = f"{PREFIX}/.sundial-migrate-deploy.json"


def run(out_dir, to, endpoint, *extra):
    result = CliRunner().invoke(
        deploy_command,
        [str(out_dir), "--to", to, "--endpoint-url", endpoint, "-q", *extra],
    )
    return result.exit_code, result.stdout, result.stderr


def dag_files(out_dir):
    return {p.name: p.read_bytes() for p in sorted((out_dir / "dags").glob("*.py"))}


def writes(moto, since: int, bucket: str) -> list[str]:
    """PUT/POST/DELETE requests moto recorded for the bucket after line ``since``."""
    lines = moto.recording.read_text().splitlines()[since:]
    out = []
    for line in lines:
        entry = json.loads(line)
        if bucket in entry["url"] and entry["method"] in ("PUT", "POST", "DELETE"):
            out.append(f"{entry['method']} {entry['url']}")
    return out


def recorded(moto) -> int:
    return (
        len(moto.recording.read_text().splitlines()) if moto.recording.exists() else 0
    )


def test_first_deploy_mirrors_every_dag_file_with_its_hash_and_prints_the_bundle(
    out_dir, bucket, aws_env
):
    code, stdout, stderr = run(out_dir, bucket.url(), aws_env)
    assert code == 0, stderr
    files = dag_files(out_dir)
    objects = bucket.objects()
    assert {k: v for k, v in objects.items() if k != MANIFEST_KEY} == {
        f"{PREFIX}/{name}": data for name, data in files.items()
    }
    assert len(files) == 28
    some = "orders-nightly-etl.py"
    assert bucket.metadata(f"{PREFIX}/{some}") == {
        "sundial-migrate-sha256": hashlib.sha256(files[some]).hexdigest()
    }
    assert set(bucket.manifest()) == set(files)
    assert json.loads(stdout) == [
        {
            "name": "sundial",
            "classpath": "airflow.providers.amazon.aws.bundles.s3.S3DagBundle",
            "kwargs": {
                "bucket_name": bucket.name,
                "prefix": PREFIX,
                "aws_conn_id": "aws_default",
            },
        }
    ]
    assert "testing-secret-key" not in stdout + stderr


def test_unchanged_rerun_touches_nothing(out_dir, bucket, aws_env, moto_s3):
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    before = bucket.versions()
    since = recorded(moto_s3)
    result = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert not result.result.uploaded and not result.result.deleted
    assert not result.result.manifest_written
    assert len(result.result.plan.unchanged) == 28
    assert writes(moto_s3, since, bucket.name) == []
    assert bucket.versions() == before
    assert all(len(v) == 1 for v in before.values())


def test_changed_added_and_removed_files_only(out_dir, bucket, aws_env, moto_s3):
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    before = bucket.versions()
    dags = out_dir / "dags"
    (dags / "orders-nightly-etl.py").write_text(
        (dags / "orders-nightly-etl.py")
        .read_text()
        .replace('"0 5 * * *"', '"0 6 * * *"')
    )
    (dags / "sales_report_2.py").unlink()
    (dags / "hand_made.py").write_text("# a DAG someone added to DIR/dags\n")
    since = recorded(moto_s3)
    done = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert done.result.uploaded == ["hand_made.py", "orders-nightly-etl.py"]
    assert done.result.deleted == ["sales_report_2.py"]
    assert done.edited == ["dags/orders-nightly-etl.py"]
    after = bucket.versions()
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {
        f"{PREFIX}/orders-nightly-etl.py",
        f"{PREFIX}/hand_made.py",
        f"{PREFIX}/sales_report_2.py",
        MANIFEST_KEY,
    }
    assert any(v.startswith("deleted:") for v in after[f"{PREFIX}/sales_report_2.py"])
    assert f"{PREFIX}/sales_report_2.py" not in bucket.objects()
    # order: DAG files first, deletion after them, the manifest last
    # (inside the deploy lock, taken first and released last)
    methods = writes(moto_s3, since, bucket.name)
    assert [m.split()[0] for m in methods] == [
        "PUT",
        "PUT",
        "PUT",
        "DELETE",
        "PUT",
        "DELETE",
    ]
    assert methods[0].endswith(".sundial-migrate-deploy.lock")
    assert methods[-2].endswith(".sundial-migrate-deploy.json")
    assert ".sundial-migrate-deploy.lock" in methods[-1]
    assert (
        bucket.objects()[f"{PREFIX}/orders-nightly-etl.py"]
        == (dags / "orders-nightly-etl.py").read_bytes()
    )


def test_foreign_objects_are_kept_unless_forced(out_dir, bucket, aws_env):
    bucket.put(f"{PREFIX}/someone_elses_dag.py", b"# not ours\n")
    bucket.put("elsewhere/file.py", b"# outside the prefix\n")
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    assert bucket.objects()[f"{PREFIX}/someone_elses_dag.py"] == b"# not ours\n"
    result = CliRunner().invoke(
        deploy_command, [str(out_dir), "--to", bucket.url(), "--endpoint-url", aws_env]
    )
    assert result.exit_code == 0
    assert "kept someone_elses_dag.py" in result.stderr
    assert "1 not ours kept" in result.stderr
    code, _, _ = run(out_dir, bucket.url(), aws_env, "--force")
    assert code == 0
    objects = bucket.objects()
    assert f"{PREFIX}/someone_elses_dag.py" not in objects
    assert objects["elsewhere/file.py"] == b"# outside the prefix\n"  # never in scope


def test_a_foreign_object_in_the_way_stops_the_run_before_any_change(
    out_dir, bucket, aws_env
):
    bucket.put(f"{PREFIX}/orders-nightly-etl.py", b"# hand-deployed, different\n")
    before = bucket.versions()
    code, stdout, stderr = run(out_dir, bucket.url(), aws_env)
    assert code == 2 and stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith(
        f"error: s3://{bucket.name}/{PREFIX}/orders-nightly-etl.py: "
    )
    assert "not written by sundial-migrate" in line and "--force" in line
    assert bucket.versions() == before  # nothing uploaded at all
    assert run(out_dir, bucket.url(), aws_env, "--force")[0] == 0
    assert (
        bucket.objects()[f"{PREFIX}/orders-nightly-etl.py"]
        == (out_dir / "dags" / "orders-nightly-etl.py").read_bytes()
    )


def test_a_deployed_file_edited_in_the_bucket_is_no_longer_ours(
    out_dir, bucket, aws_env
):
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    key = f"{PREFIX}/orders-nightly-etl.py"
    bucket.put(key, b"# hot-fixed in the console\n")
    code, _, stderr = run(out_dir, bucket.url(), aws_env)
    assert code == 2 and "orders-nightly-etl.py" in stderr
    assert bucket.objects()[key] == b"# hot-fixed in the console\n"
    # gone from DIR/dags as well: still not deleted
    (out_dir / "dags" / "orders-nightly-etl.py").unlink()
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    assert bucket.objects()[key] == b"# hot-fixed in the console\n"


def test_identical_content_copied_by_hand_is_adopted_not_rewritten(
    out_dir, bucket, aws_env
):
    files = dag_files(out_dir)
    for name, data in files.items():  # what `aws s3 sync` would have left there
        bucket.put(f"{PREFIX}/{name}", data)
    before = bucket.versions()
    done = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert len(done.result.plan.adopted) == 28 and not done.result.uploaded
    after = bucket.versions()
    assert {k: v for k, v in after.items() if k != MANIFEST_KEY} == before
    (out_dir / "dags" / "legacy-crm-sync.py").unlink()  # now ours: it may go
    done = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert done.result.deleted == ["legacy-crm-sync.py"]


def test_a_lost_manifest_is_healed_by_content_not_by_metadata(
    out_dir, bucket, aws_env, moto_s3
):
    """An interrupted run's uploads (no record written) have the bytes the re-run would
    write: adopted, nothing uploaded again; an object copied into the prefix with our
    metadata is still someone else's and is not deleted."""
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    bucket.s3.delete_object(Bucket=bucket.name, Key=MANIFEST_KEY)
    since = recorded(moto_s3)
    done = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert len(done.result.plan.adopted) == 28 and not done.result.uploaded
    assert writes(moto_s3, since, bucket.name) == [
        f"PUT {moto_s3.endpoint}/{bucket.name}/{MANIFEST_KEY}"
    ]
    ours = f"{PREFIX}/orders-nightly-etl.py"
    bucket.s3.copy_object(  # someone copies one of ours, metadata and all
        Bucket=bucket.name,
        Key=f"{PREFIX}/copied_by_hand.py",
        CopySource={"Bucket": bucket.name, "Key": ours},
    )
    assert bucket.metadata(f"{PREFIX}/copied_by_hand.py") == bucket.metadata(ours)
    done = deploy(out_dir, bucket.url(), endpoint_url=aws_env)
    assert done.result.deleted == [] and done.result.plan.kept_foreign == [
        "copied_by_hand.py"
    ]
    assert f"{PREFIX}/copied_by_hand.py" in bucket.objects(PREFIX)


def test_dry_run_lists_the_changes_and_makes_none(out_dir, bucket, aws_env):
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    (out_dir / "dags" / "sales_report_2.py").unlink()
    (out_dir / "dags" / "new_one.py").write_text("# new\n")
    before = bucket.versions()
    code, stdout, _ = run(out_dir, bucket.url(), aws_env, "--dry-run")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[:2] == [
        "would upload new_one.py (new)",
        "would delete sales_report_2.py (gone from DIR/dags)",
    ]
    assert json.loads(lines[-1])[0]["kwargs"]["bucket_name"] == bucket.name
    assert bucket.versions() == before


def test_the_bucket_root_as_prefix(out_dir, bucket, aws_env):
    code, stdout, _ = run(out_dir, f"s3://{bucket.name}", aws_env)
    assert code == 0
    assert json.loads(stdout)[0]["kwargs"]["prefix"] == ""
    assert "orders-nightly-etl.py" in bucket.objects()


def test_no_such_bucket_is_one_line_exit_2(out_dir, aws_env):
    code, stdout, stderr = run(out_dir, "s3://no-such-bucket-here/dags", aws_env)
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [
        "error: s3://no-such-bucket-here: no such bucket (create it, or check --to "
        "and --endpoint-url)"
    ]


def test_a_malformed_target_is_one_line_exit_2(out_dir, aws_env):
    code, _, stderr = run(out_dir, "s3:///dags", aws_env)
    assert (
        code == 2 and len(stderr.splitlines()) == 1 and "s3://BUCKET/PREFIX" in stderr
    )
    code, _, stderr = run(tmp := out_dir / "nowhere", "s3://b/p", aws_env)
    assert code == 2 and stderr.splitlines() == [
        f"error: {tmp / 'dags'}: not a directory (DIR must be the output of migrate convert)"
    ]


def test_no_credentials_and_no_server_are_one_line_exit_2(
    out_dir, aws_env, monkeypatch
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, stderr = run(out_dir, "s3://some-bucket/dags", aws_env)
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "no AWS credentials found" in stderr
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
    code, _, stderr = run(out_dir, "s3://some-bucket/dags", "http://127.0.0.1:9")
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "cannot connect to http://127.0.0.1:9" in stderr
    assert "testing-secret-key" not in stderr


def test_access_denied_midway_says_what_was_done_and_deletes_nothing(out_dir, tmp_path):
    """A moto server that enforces IAM: the identity may list and read, not write."""
    from tests.run.harness import MotoServer

    server = MotoServer(
        tmp_path / "moto-iam", extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": "5"}
    )
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="locked")
        s3.put_object(Bucket="locked", Key="dags/old.py", Body=b"x")
        iam = server.client("iam")
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader",
            PolicyName="read-only",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            # AWS authorizes ListObjectsV2 as s3:ListBucket and
                            # HeadObject as s3:GetObject; moto 5.2 checks them under
                            # their own names (older moto: as AWS does)
                            "Action": [
                                "s3:ListBucket",
                                "s3:ListObjectsV2",
                                "s3:GetObject",
                                "s3:HeadObject",
                            ],
                            "Resource": "*",
                        }
                    ],
                }
            ),
        )
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": str(ROOT),
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "migrate.cli",
                "deploy",
                str(out_dir),
                "--to",
                "s3://locked/dags",
                "--endpoint-url",
                server.endpoint,
                "--force",
                "-q",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.splitlines()
        assert "access denied for PutObject" in line
        # the first write is the deploy lock: it stops the run before any change
        assert line.endswith("taking the deploy lock: nothing was changed")
        assert key["SecretAccessKey"] not in proc.stderr + proc.stdout
        # the object that --force would have deleted is still there
        reader = boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        assert (
            reader.get_object(Bucket="locked", Key="dags/old.py")["Body"].read() == b"x"
        )
    finally:
        server.stop()


def _consistent(bucket) -> dict[str, str]:
    """Every object the record lists has the recorded content; returns rel -> sha256."""
    record = bucket.manifest()
    objects = bucket.objects()
    for rel, entry in record.items():
        body = objects[f"{PREFIX}/{rel}"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], rel
    return {rel: e["sha256"] for rel, e in record.items()}


def _sha(out_dir) -> dict[str, str]:
    return {
        name: hashlib.sha256(body).hexdigest()
        for name, body in dag_files(out_dir).items()
    }


def test_a_deploy_while_another_holds_the_lock_changes_nothing(
    out_dir, bucket, aws_env, moto_s3
):
    """A second deploy to a prefix stops at its first write, one line naming the
    deploy that holds the lock (host, pid, since when), exit 2; once the lock is free the
    same command deploys."""
    import socket

    from migrate.deploy.core import open_target

    holder = open_target(bucket.url(), aws_env)
    with holder.lock():
        since = recorded(moto_s3)
        code, _, stderr = run(out_dir, bucket.url(), aws_env)
        assert code == 2
        (line,) = stderr.splitlines()
        assert line.startswith(
            f"error: {bucket.url()}: another migrate deploy is writing to this prefix "
            f"(host {socket.gethostname()}, pid {os.getpid()}, since "
        )
        assert "nothing was changed" in line
        assert writes(moto_s3, since, bucket.name) == [
            f"PUT {aws_env}/{bucket.name}/{PREFIX}/.sundial-migrate-deploy.lock"
        ]  # the conditional write that lost, nothing else
        assert not any(k.endswith(".py") for k in bucket.objects())
    assert run(out_dir, bucket.url(), aws_env)[0] == 0
    assert _consistent(bucket) == _sha(out_dir)
    assert f"{PREFIX}/.sundial-migrate-deploy.lock" not in bucket.objects()


def test_concurrent_deploys_never_leave_a_mix(out_dir, tmp_path, bucket, aws_env):
    """Two DIRs deployed to one prefix at the same moment, again and again: each time at
    most one succeeds, a loser says so in one line, and the prefix is exactly one DIR's
    files with a record that matches every object."""
    import shutil
    import threading

    other = tmp_path / "other"
    shutil.copytree(out_dir, other)
    for path in (other / "dags").glob("*.py"):
        path.write_text(path.read_text() + "# the other team's build\n")
    wanted = {"a": _sha(out_dir), "b": _sha(other)}
    for round_ in range(4):
        barrier = threading.Barrier(2)
        outcome = {}

        def deploy_one(name, source):
            barrier.wait()
            try:
                deploy(source, bucket.url(), endpoint_url=aws_env)
                outcome[name] = "ok"
            except Exception as exc:  # DeployError: one line
                outcome[name] = str(exc)

        threads = [
            threading.Thread(target=deploy_one, args=(n, s))
            for n, s in (("a", out_dir), ("b", other))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        winners = [n for n, v in outcome.items() if v == "ok"]
        assert len(outcome) == 2 and winners, outcome
        for name, message in outcome.items():
            if message != "ok":
                assert "another migrate deploy is writing" in message, message
                assert "\n" not in message
        state = _consistent(bucket)
        assert state in (wanted["a"], wanted["b"]), round_
        if len(winners) == 1:  # the last deploy to succeed is what is there
            assert state == wanted[winners[0]]


def test_a_writer_that_bypasses_the_lock_is_caught_at_the_record(
    out_dir, tmp_path, bucket, aws_env
):
    """A second writer that takes no lock (an older tool, a store without conditional
    writes) changes the record while a deploy runs: the deploy does not overwrite that
    record, says so in one line, and its re-run settles the prefix."""
    import shutil

    from migrate.deploy.core import open_target
    from migrate.deploy.mirror import execute, local_files, make_plan

    other = tmp_path / "other"
    shutil.copytree(out_dir, other)
    (other / "dags" / "their.py").write_text("# deployed by someone else\n")
    intruder = open_target(bucket.url(), aws_env)

    def meanwhile(length):
        class Advance:
            def __enter__(self):
                files = local_files(other)
                execute(make_plan(files, intruder, intruder.scan()), intruder)
                return lambda n: None

            def __exit__(self, *exc):
                return False

        return Advance()

    (out_dir / "dags" / "mine.py").write_text("# mine\n")
    from migrate.deploy.mirror import DeployError

    try:
        deploy(out_dir, bucket.url(), endpoint_url=aws_env, progress=meanwhile)
    except DeployError as exc:
        message = str(exc)
    else:
        raise AssertionError("the deploy overwrote a record changed under it")
    assert "the ownership record was changed by someone else" in message
    assert "their.py" in bucket.manifest()  # their record stands
    assert run(out_dir, bucket.url(), aws_env, "--force")[0] == 0
    assert _consistent(bucket) == _sha(out_dir)


def test_a_lock_left_by_a_killed_deploy_is_taken_over(out_dir, bucket, aws_env):
    """A lock whose deploy cannot be running (a process of this host that is gone, or
    one older than an hour from anywhere) does not block the re-run."""
    import socket
    import time

    from migrate.deploy.mirror import LOCK_TTL_SECONDS

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    lock_key = f"{PREFIX}/.sundial-migrate-deploy.lock"
    for owner in (
        {"host": socket.gethostname(), "pid": int(dead), "since": int(time.time())},
        {
            "host": "elsewhere",
            "pid": 1,
            "since": int(time.time()) - LOCK_TTL_SECONDS - 5,
        },
    ):
        bucket.put(lock_key, json.dumps(owner).encode())
        assert run(out_dir, bucket.url(), aws_env, "--force")[0] == 0
        assert lock_key not in bucket.objects()
        (out_dir / "dags" / "touch.py").write_text(f"# {owner['host']}\n")
    bucket.put(
        lock_key,
        json.dumps({"host": "elsewhere", "pid": 1, "since": int(time.time())}).encode(),
    )
    code, _, stderr = run(out_dir, bucket.url(), aws_env)
    assert code == 2 and "host elsewhere, pid 1" in stderr
    assert f"delete s3://{bucket.name}/{lock_key}" in stderr
