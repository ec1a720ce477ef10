"""`migrate deploy DIR --to PATH`: the same mirror into a local or shared folder."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.deploy.command import deploy_command
from migrate.deploy.core import deploy
from migrate.deploy.mirror import LOCK, MANIFEST


def run(out_dir, to, *extra):
    result = CliRunner().invoke(
        deploy_command, [str(out_dir), "--to", str(to), "-q", *extra]
    )
    return result.exit_code, result.stdout, result.stderr


def tree(root: Path) -> dict[str, bytes]:
    """The target's files but the deploy lock (it records who deployed last)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != LOCK
    }


def stats(root: Path) -> dict[str, tuple]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != LOCK
    }


def test_mirror_into_a_folder_and_the_local_bundle_entry(out_dir, tmp_path):
    target = tmp_path / "airflow-dags"
    code, stdout, stderr = run(out_dir, target)
    assert code == 0, stderr
    files = tree(out_dir / "dags")
    deployed = tree(target)
    assert set(deployed) == set(files) | {MANIFEST}
    assert all(deployed[k] == v for k, v in files.items())
    assert json.loads(stdout) == [
        {
            "name": "sundial",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(target)},
        }
    ]
    mode = (target / "orders-nightly-etl.py").stat().st_mode & 0o777
    assert mode & 0o044 == 0o044  # readable by an Airflow running as another user


def test_unchanged_rerun_rewrites_no_file(out_dir, tmp_path):
    target = tmp_path / "t"
    assert run(out_dir, target)[0] == 0
    before = stats(target)
    done = deploy(out_dir, str(target))
    assert not done.result.uploaded and not done.result.manifest_written
    assert stats(target) == before  # same inodes, same times: nothing rewritten


def test_changes_deletions_and_pycache_left_alone(out_dir, tmp_path):
    target = tmp_path / "t"
    assert run(out_dir, target)[0] == 0
    cache = target / "__pycache__"
    cache.mkdir()
    (cache / "orders-nightly-etl.cpython-311.pyc").write_bytes(b"\0")  # Airflow's
    dags = out_dir / "dags"
    (dags / "sub").mkdir()
    (dags / "sub" / "nested.py").write_text("# nested\n")
    (dags / "sales_report_2.py").unlink()
    (dags / "orders-nightly-etl.py").write_text("# edited\n")
    before = stats(target)
    done = deploy(out_dir, str(target))
    assert done.result.uploaded == ["orders-nightly-etl.py", "sub/nested.py"]
    assert done.result.deleted == ["sales_report_2.py"]
    after = stats(target)
    assert (target / "sub" / "nested.py").read_text() == "# nested\n"
    assert not (target / "sales_report_2.py").exists()
    assert (cache / "orders-nightly-etl.cpython-311.pyc").exists()
    untouched = set(before) - {"orders-nightly-etl.py", "sales_report_2.py", MANIFEST}
    assert all(after[k] == before[k] for k in untouched)
    assert not [p for p in target.rglob(".sundial-migrate-tmp-*")]
    (dags / "sub" / "nested.py").unlink()
    assert deploy(out_dir, str(target)).result.deleted == ["sub/nested.py"]
    assert not (target / "sub").exists()  # the folder it made goes with its last file


def test_foreign_and_edited_files(out_dir, tmp_path):
    target = tmp_path / "t"
    target.mkdir()
    (target / "theirs.py").write_text("# theirs\n")
    (target / ".airflowignore").write_text("theirs_old\n")
    assert run(out_dir, target)[0] == 0
    assert (target / "theirs.py").read_text() == "# theirs\n"
    assert (target / ".airflowignore").exists()
    # someone edits a deployed file in place: it is theirs now
    (target / "legacy-crm-sync.py").write_text("# hot fix\n")
    code, stdout, stderr = run(out_dir, target)
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [
        f"error: {target / 'legacy-crm-sync.py'}: exists and was not written by "
        "sundial-migrate, or changed since it wrote it; not overwritten (move it "
        "away, or re-run with --force to replace it)"
    ]
    assert (target / "legacy-crm-sync.py").read_text() == "# hot fix\n"
    code, _, _ = run(out_dir, target, "--force")
    assert code == 0
    assert (
        not (target / "theirs.py").exists() and not (target / ".airflowignore").exists()
    )
    assert tree(target).keys() == tree(out_dir / "dags").keys() | {MANIFEST}


def test_identical_files_copied_by_hand_are_adopted(out_dir, tmp_path):
    target = tmp_path / "t"
    shutil.copytree(out_dir / "dags", target)
    before = stats(target)
    done = deploy(out_dir, str(target))
    assert len(done.result.plan.adopted) == 28 and not done.result.uploaded
    assert {k: v for k, v in stats(target).items() if k != MANIFEST} == before


def test_bad_targets_are_one_line_exit_2(out_dir, tmp_path):
    code, _, stderr = run(out_dir, tmp_path / "no" / "such" / "place")
    assert code == 2 and len(stderr.splitlines()) == 1 and "no such directory" in stderr
    code, _, stderr = run(out_dir, out_dir / "dags")
    assert code == 2 and "overlaps DIR/dags" in stderr
    code, _, stderr = run(out_dir, out_dir)
    assert code == 2 and "overlaps DIR/dags" in stderr
    (tmp_path / "file").write_text("")
    code, _, stderr = run(out_dir, tmp_path / "file")
    assert code == 2 and "not a directory" in stderr
    code, _, stderr = run(out_dir, "ftp://host/dags")
    assert code == 2 and "only s3://BUCKET/PREFIX or a folder path" in stderr


def test_an_emptied_dags_folder_does_not_empty_production(out_dir, tmp_path):
    target = tmp_path / "t"
    assert run(out_dir, target)[0] == 0
    for p in (out_dir / "dags").glob("*.py"):
        p.unlink()
    code, _, stderr = run(out_dir, target)
    assert code == 2 and "refusing to delete all 28" in stderr
    assert len(list(target.glob("*.py"))) == 28
    assert run(out_dir, target, "--force")[0] == 0
    assert not list(target.glob("*.py"))


def test_dry_run_into_a_folder_not_made_yet(out_dir, tmp_path):
    target = tmp_path / "later"
    code, stdout, _ = run(out_dir, target, "--dry-run")
    assert code == 0 and not target.exists()
    assert stdout.count("would upload ") == 28


NAMES = st.sampled_from(["a.py", "b.py", "c.py", "sub/d.py"])
CONTENT = st.sampled_from([b"1\n", b"2\n", b"3\n"])
STEP = st.tuples(
    st.dictionaries(NAMES, CONTENT),  # DIR/dags after the user's change
    st.dictionaries(NAMES, CONTENT, max_size=2),  # what someone else does to the target
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=5))
def test_mirror_properties_over_random_histories(tmp_path_factory, steps):
    """After each deploy: the target holds DIR/dags exactly, plus foreign files
    untouched; a refused deploy changed nothing; a second deploy changes nothing."""
    base = tmp_path_factory.mktemp("hist")
    out, target = base / "out", base / "target"
    (out / "dags").mkdir(parents=True)
    target.mkdir()
    for local, foreign in steps:
        shutil.rmtree(out / "dags")
        (out / "dags").mkdir()
        for rel, data in local.items():
            (out / "dags" / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / "dags" / rel).write_bytes(data)
        for rel, data in foreign.items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(data)
        before = tree(target)
        mine = json.loads(before.get(MANIFEST, b'{"files": {}}'))["files"]
        foreign = {
            rel: data
            for rel, data in before.items()
            if rel != MANIFEST
            and mine.get(rel, {}).get("sha256") != hashlib.sha256(data).hexdigest()
        }
        code, _, stderr = run(out, target)
        after = tree(target)
        if code == 2:
            assert after == before, stderr  # refused: nothing changed
            continue
        assert code == 0, stderr
        recorded = after.pop(MANIFEST, None)  # none yet when nothing was ever ours
        manifest = json.loads(recorded)["files"] if recorded else {}
        for rel, data in local.items():
            assert after[rel] == data
        assert set(manifest) == set(local)
        for rel in set(after) - set(local):  # only foreign files remain, untouched
            assert after[rel] == before[rel] and rel not in manifest
        for rel, data in foreign.items():  # and every foreign file does remain
            assert after[rel] == data
        again = deploy(out, str(target)).result
        assert not again.uploaded and not again.deleted and not again.manifest_written


def test_fifos_and_symlinks_at_the_target_are_never_opened(out_dir, tmp_path):
    """A FIFO (which would hang a read), a symlink to /dev/zero (which would fill
    memory), someone's dangling symlink: kept as foreign, the deploy goes on."""
    import os

    target = tmp_path / "t"
    target.mkdir()
    os.mkfifo(target / "pipe.py")
    (target / "zero.py").symlink_to("/dev/zero")
    (target / "dangling.py").symlink_to(tmp_path / "gone")
    code, _, stderr = run(out_dir, target)
    assert code == 0, stderr
    assert tree(target).keys() - {"zero.py"} == tree(out_dir / "dags").keys() | {
        MANIFEST
    }
    assert (target / "zero.py").is_symlink() and (target / "dangling.py").is_symlink()
    assert (target / "pipe.py").exists()
    manifest = json.loads((target / MANIFEST).read_text())["files"]
    assert not {"pipe.py", "zero.py", "dangling.py"} & set(manifest)


def test_a_symlink_in_dir_dags_is_refused_before_anything_is_written(out_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the DAG folder")
    (out_dir / "dags" / "zz_link.py").symlink_to(secret)
    target = tmp_path / "t"
    code, stdout, stderr = run(out_dir, target)
    assert code == 2 and stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith(f"error: {out_dir / 'dags' / 'zz_link.py'}: a symbolic link")
    assert not target.exists() or tree(target) == {}


def test_a_second_deploy_to_a_folder_stops_and_a_killed_ones_lock_is_gone(
    out_dir, tmp_path
):
    """While a deploy holds the folder's lock, another stops with one line naming it
    (exit 2, nothing changed); when the holder is killed (SIGKILL) the kernel drops its
    lock and the same command deploys."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    target = tmp_path / "airflow-dags"
    target.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from migrate.deploy.folder import FolderTarget\n"
            "with FolderTarget(sys.argv[1]).lock():\n"
            "    print('held', flush=True)\n"
            "    time.sleep(120)\n",
            str(target),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline() == "held\n"
        code, _, stderr = run(out_dir, target)
        assert code == 2
        (line,) = stderr.splitlines()
        assert line.startswith(
            f"error: {target}: another migrate deploy is writing to this folder ("
        )
        assert f"pid {holder.pid}, since " in line and "nothing was changed" in line
        assert tree(target) == {}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    code, _, stderr = run(out_dir, target)
    assert code == 0, stderr
    assert tree(target).keys() == tree(out_dir / "dags").keys() | {MANIFEST}
