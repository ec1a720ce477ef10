"""`migrate export --db` against a real PostgreSQL holding the estate in stored form."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from click.testing import CliRunner

from fixtures.db.cluster import PASSWORD
from fixtures.server import FixtureServer
from migrate.extract.command import export_command
from migrate.extract.export import export_api, export_db
from migrate.extract.http import ExportError
from tests.extract.conftest import EXPORT_DAYS, FAST, HISTORY_DAYS, NOW, make_estate_db
from tests.sundial_strategies import ONE_WAY, estates, without_empty


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


@pytest.fixture(scope="module")
def db_export(estate_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("db") / "export"
    result = export_db(estate_db, out, history_days=EXPORT_DAYS, now=NOW)
    return out, result


def test_api_and_db_give_identical_files(db_export, tmp_path):
    out, result = db_export
    assert result.warnings == []
    # A Sundial serves what it stored: the fixture server in that mode is the API of
    # the database the other export read.
    with FixtureServer(
        now=NOW, history_days=HISTORY_DAYS, through_stored_form=True
    ) as sundial:
        api = export_api(
            sundial.url, tmp_path / "api", FAST, history_days=EXPORT_DAYS, now=NOW
        )
    assert api.warnings == []
    from_api, from_db = tree(tmp_path / "api"), tree(out)
    assert len([k for k in from_db if k.startswith("process_definitions/")]) == 28
    assert from_api.keys() == from_db.keys()
    for rel in from_db:
        assert from_api[rel] == from_db[rel], rel
    assert api.manifest["counts"] == result.manifest["counts"]
    assert api.manifest["files"] == result.manifest["files"]


def test_db_counts_history_and_manifest(db_export):
    out, result = db_export
    counts = result.manifest["counts"]
    assert counts["process_definitions"] == 28
    assert counts["task_definitions"] == 66
    assert counts["skipped"] == 0 and counts["invalid_definitions"] == 0
    runs = (out / "history" / "processes.jsonl").read_text().splitlines()
    assert counts["history_processes"] == len(runs) > 100
    assert PASSWORD not in result.manifest["source"]
    assert "password" not in result.manifest["source"]
    assert "dbname=sundial" in result.manifest["source"]


def test_db_export_converts(db_export, tmp_path):
    from migrate.pipeline import convert

    out, _ = db_export
    converted = convert([out], tmp_path / "airflow")
    assert not converted.problems
    assert len(list((tmp_path / "airflow" / "dags").glob("*.py"))) == 28


def test_broken_json_row_is_skipped_with_one_line(pg_cluster, tmp_path):
    dsn = make_estate_db(pg_cluster, "sundial_broken")
    with psycopg.connect(dsn) as conn:
        # A Jackson dump stored as a JSON string, cut off: valid jsonb, broken JSON inside.
        conn.execute(
            "UPDATE task_definition_template SET executable = to_jsonb(%s::text) "
            "WHERE process_definition_name = 'orders-nightly-etl' "
            "AND task_definition_name = 'load.orders'",
            ('{"type":"docker","image":"x","comm',),
        )
        conn.execute(
            'UPDATE process_definition SET schedule = \'{"type": "hourly"}\' '
            "WHERE process_definition_name = 'kpi-dashboard-refresh'"
        )
    result = CliRunner().invoke(
        export_command, ["--db", dsn, "--out", str(tmp_path / "e"), "-q"]
    )
    assert result.exit_code == 1, result.output
    lines = [l for l in result.output.splitlines() if l.startswith("warning:")]
    assert len(lines) == 2
    broken = next(l for l in lines if "orders-nightly-etl" in l)
    assert "'load.orders'" in broken and "column executable" in broken
    assert "not valid JSON" in broken and "skipped" in broken
    assert any("kpi-dashboard-refresh" in l and "hourly" in l for l in lines)
    manifest = json.loads((tmp_path / "e" / "manifest.json").read_text())
    assert manifest["counts"]["process_definitions"] == 26
    assert manifest["counts"]["skipped"] == 2
    assert PASSWORD not in result.output


def run_cli(*args):
    return CliRunner().invoke(export_command, [str(a) for a in args])


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    errors = [l for l in result.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def test_connection_refused(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = one_error(
        run_cli(
            "--db",
            f"host=127.0.0.1 port={port} dbname=x user=u",
            "--out",
            tmp_path / "e",
        )
    )
    assert "connection refused" in line
    assert not (tmp_path / "e").exists()


def test_bad_password(pg_cluster, estate_db, tmp_path):
    dsn = pg_cluster.dsn("sundial", password="not-the-password")
    line = one_error(run_cli("--db", dsn, "--out", tmp_path / "e"))
    assert "authentication failed" in line
    assert "not-the-password" not in line


def test_missing_tables(pg_cluster, tmp_path):
    dsn = pg_cluster.create_database("not_sundial")
    line = one_error(run_cli("--db", dsn, "--out", tmp_path / "e"))
    assert "no table process_definition, task_definition_template" in line
    assert not (tmp_path / "e").exists()


def test_process_glob_from_db(estate_db, tmp_path):
    result = export_db(
        estate_db,
        tmp_path / "e",
        history_days=EXPORT_DAYS,
        now=NOW,
        processes=["*etl*"],
    )
    assert result.manifest["counts"]["process_definitions"] == 1
    runs = (tmp_path / "e" / "history" / "processes.jsonl").read_text().splitlines()
    assert runs and all(
        json.loads(r)["process_definition_name"] == "orders-nightly-etl" for r in runs
    )


def test_database_going_away_mid_export(tmp_path):
    """The server dies while definitions are being read: one clear error, and nothing in
    the output directory that looks like a complete export."""
    from fixtures.db.cluster import PostgresCluster, find_bindir
    from migrate.extract.export import Progress, export_db
    from tests.extract.conftest import make_estate_db

    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not found")  # pg_cluster fails under CI
    out = tmp_path / "out"
    with PostgresCluster() as cluster:
        dsn = make_estate_db(cluster, "vanishing")

        class DiesHalfway(Progress):
            def definitions(self, items):
                for i, item in enumerate(items):
                    if i == 3:
                        cluster.stop()  # pg_ctl stop -m immediate
                    yield item

        with pytest.raises(ExportError) as info:
            export_db(
                dsn, out, history_days=HISTORY_DAYS, now=NOW, progress=DiesHalfway()
            )
    message = str(info.value)
    assert "\n" not in message and "password" not in message.lower()
    assert not (out / "manifest.json").exists()
    assert not any(
        p.name.startswith(".") and "tmp" in p.name for p in tmp_path.iterdir()
    )


# -- any definition, through a real database ---------------------------------------------


@pytest.fixture(scope="module")
def scratch_db(pg_cluster) -> str:
    dsn = pg_cluster.create_database("sundial_generated")
    with psycopg.connect(dsn) as conn:
        from fixtures.db.load import create_schema

        create_schema(conn)
    return dsn


def _converted(source: Path, out: Path) -> dict[str, bytes]:
    from migrate.pipeline import convert

    result = convert([source], out, jobs=1, cache=False)
    assert not result.problems, [str(p) for p in result.problems]
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for part in ("dags", "plugins", "report")
        for p in sorted((out / part).rglob("*"))
        if p.is_file()
    }


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(estate=estates(max_size=3))
def test_any_estate_exports_from_the_database_as_from_the_api(
    scratch_db, tmp_path_factory, estate
):
    """Rows written as Sundial's Jackson writes them (every option, null when absent),
    read back by `migrate export --db`, convert to the same bytes as the API export of a
    Sundial serving that database, and to the same DAGs as the definitions themselves.
    """
    from fixtures.db.load import load_definitions

    tmp = tmp_path_factory.mktemp("generated")
    with psycopg.connect(scratch_db) as conn:
        conn.execute("TRUNCATE process_definition, task_definition_template")
        load_definitions(conn, estate)
    db_result = export_db(scratch_db, tmp / "db", history_days=0, now=NOW)
    assert db_result.warnings == [] and db_result.exit_code == 0
    with FixtureServer(
        estate, now=NOW, history_days=0, through_stored_form=True
    ) as sundial:
        api_result = export_api(sundial.url, tmp / "api", FAST, history_days=0, now=NOW)
    assert api_result.warnings == []
    from_db = _converted(tmp / "db", tmp / "db-out")
    assert _converted(tmp / "api", tmp / "api-out") == from_db

    (tmp / "wire").mkdir()
    (tmp / "wire" / "estate.json").write_text(
        json.dumps(without_empty(estate, ONE_WAY)), encoding="utf-8"
    )
    from_wire = _converted(tmp / "wire", tmp / "wire-out")
    dags = {k: v for k, v in from_db.items() if k.startswith(("dags/", "plugins/"))}
    assert dags == {
        k: v for k, v in from_wire.items() if k.startswith(("dags/", "plugins/"))
    }


def test_a_null_required_field_in_the_database_is_one_line(pg_cluster, tmp_path):
    """Jackson never writes null for a field Sundial's class requires; a row that has one
    is invalid at that field, the rest of the estate is exported and converted."""
    dsn = make_estate_db(pg_cluster, "sundial_null_image")
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE task_definition_template "
            "SET executable = jsonb_set(executable, '{image}', 'null') "
            "WHERE process_definition_name = 'churn-model-retrain' "
            "AND task_definition_name = 'train'"
        )
    result = export_db(dsn, tmp_path / "e", history_days=0, now=NOW)
    lines = [w for w in result.warnings if "churn-model-retrain" in w]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "executable.batch_image_command.image" in lines[0]
    assert "got null" in lines[0]
    from migrate.pipeline import convert

    converted = convert([tmp_path / "e"], tmp_path / "airflow")
    assert converted.exit_code(strict=False) == 1
    assert len(list((tmp_path / "airflow" / "dags").glob("*.py"))) == 27
    (problem,) = converted.problems
    assert "churn-model-retrain" in str(problem) and "got null" in str(problem)
