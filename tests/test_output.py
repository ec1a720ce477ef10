"""The output directory can be re-run into: only changes are written, stale files go,
hand edits are never clobbered without --force, and nothing is written outside DIR."""

from __future__ import annotations

import pytest

from migrate.output import MANIFEST, OutputWriter, read_manifest, safe_path, sync


def test_second_run_writes_nothing_new(tmp_path):
    first = sync(tmp_path, {"dags/a.py": "a\n", "dags/b.py": "b\n"})
    assert first.written == ["dags/a.py", "dags/b.py"]
    second = sync(tmp_path, {"dags/a.py": "a\n", "dags/b.py": "b2\n"})
    assert second.unchanged == ["dags/a.py"] and second.written == ["dags/b.py"]
    assert (tmp_path / "dags/b.py").read_text() == "b2\n"


def test_files_of_vanished_processes_are_removed(tmp_path):
    sync(tmp_path, {"dags/a.py": "a", "dags/gone.py": "g"})
    result = sync(tmp_path, {"dags/a.py": "a"})
    assert result.removed == ["dags/gone.py"]
    assert not (tmp_path / "dags/gone.py").exists()
    assert set(read_manifest(tmp_path)) == {"dags/a.py"}


def test_edited_files_are_refused_unless_forced(tmp_path):
    sync(tmp_path, {"dags/a.py": "a", "dags/gone.py": "g"})
    (tmp_path / "dags/a.py").write_text("edited")
    (tmp_path / "dags/gone.py").write_text("edited too")
    result = sync(tmp_path, {"dags/a.py": "new"})
    assert (tmp_path / "dags/a.py").read_text() == "edited"
    assert (tmp_path / "dags/gone.py").exists()
    assert len(result.refused) == 2
    assert all("--force" in str(p) for p in result.refused)
    forced = sync(tmp_path, {"dags/a.py": "new"}, force=True)
    assert forced.written == ["dags/a.py"] and forced.removed == ["dags/gone.py"]


def test_a_foreign_file_is_not_overwritten(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags/a.py").write_text("mine")
    result = sync(tmp_path, {"dags/a.py": "generated"})
    assert (tmp_path / "dags/a.py").read_text() == "mine"
    assert "not written by sundial-migrate" in str(result.refused[0])


@pytest.mark.parametrize("rel", ["../x.py", "/etc/x", "dags/../../x", "", "a\x00b"])
def test_paths_cannot_leave_the_output_directory(tmp_path, rel):
    with pytest.raises(ValueError):
        safe_path(tmp_path, rel)


def test_manifest_records_hashes(tmp_path):
    sync(tmp_path, {"x.txt": "x"})
    assert (tmp_path / MANIFEST).is_file()
    assert (
        read_manifest(tmp_path)["x.txt"]
        == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )


def test_streamed_files_follow_the_same_rules(tmp_path):
    from migrate.output import OutputWriter

    def write(lines, force=False):
        writer = OutputWriter(tmp_path, force=force)
        writer.put_lines("report/big.json", iter(lines))
        return writer.finish()

    assert write(["{", "}"]).written == ["report/big.json"]
    assert (tmp_path / "report/big.json").read_text() == "{\n}\n"
    assert write(["{", "}"]).unchanged == ["report/big.json"]
    (tmp_path / "report/big.json").write_text("edited")
    refused = write(["{", "  1", "}"])
    assert (
        len(refused.refused) == 1
        and (tmp_path / "report/big.json").read_text() == "edited"
    )
    assert write(["{", "}"], force=True).written == ["report/big.json"]
    assert [p.name for p in (tmp_path / "report").iterdir()] == [
        "big.json"
    ]  # no temp files


def test_a_symlink_cannot_lead_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "out"
    root.mkdir()
    (root / "dags").symlink_to(outside)
    with pytest.raises(ValueError):
        safe_path(root, "dags/x.py")


def test_files_get_the_usual_mode_so_airflow_can_read_them(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    os.umask(mask)
    writer = OutputWriter(tmp_path)
    writer.put("dags/a.py", "a\n")
    writer.put_lines("report/big.json", ["{}"])
    writer.finish()
    for rel in ("dags/a.py", "report/big.json"):
        mode = stat.S_IMODE((tmp_path / rel).stat().st_mode)
        assert mode == 0o666 & ~mask, (rel, oct(mode))


@pytest.mark.parametrize("link", ["dags", "report/processes", "dags/etl.py"])
def test_a_link_out_of_dir_is_refused_before_anything_is_written(tmp_path, link):
    """A symlinked OUT/dags (or a deeper directory, or one file) that leads outside OUT:
    one line naming the link, exit 2, and nothing written anywhere."""
    from click.testing import CliRunner

    from migrate.cli import main
    from tests.conftest import ESTATE

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / link).parent.mkdir(parents=True)
    (out / link).symlink_to(elsewhere / "x" if link.endswith(".py") else elsewhere)
    (out / "notes").symlink_to(elsewhere)  # the user's own link is not ours: left alone
    result = CliRunner().invoke(main, ["convert", str(ESTATE), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        f"error: {out / link} is a symbolic link to {elsewhere / 'x' if link.endswith('.py') else elsewhere}, "
        f"outside {out}: convert writes only inside {out}, so nothing was written; "
        "replace the link with a directory (or give --out the place it points to)"
    ]
    assert list(elsewhere.iterdir()) == []
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == sorted({"notes", link, *_parents(link)})


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def test_only_the_tools_own_names_are_checked(converted_estate):
    """OWN_TOP holds every name convert writes at the top of DIR."""
    from migrate.output import OWN_TOP
    from tests.conftest import ESTATE_OUT

    assert converted_estate.sync.written
    assert {p.name for p in ESTATE_OUT.iterdir()} <= set(OWN_TOP)
