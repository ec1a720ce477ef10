"""Fixtures for the export tests: the fixture Sundial server and a throwaway PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import psycopg
import pytest

from fixtures.db.cluster import PostgresCluster, find_bindir
from fixtures.db.load import create_schema, load_definitions, load_history
from fixtures.server import FixtureServer, History, load_estate
from migrate.extract.http import HttpOptions

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
HISTORY_DAYS = 10  # the server and the database hold this much
EXPORT_DAYS = 7  # the tests export this much
FAST = HttpOptions(timeout=5, retries=4, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
def server():
    with FixtureServer(now=NOW, history_days=HISTORY_DAYS) as running:
        yield running


@pytest.fixture(scope="session")
def pg_cluster():
    if find_bindir() is None:
        message = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian "
            "package 'postgresql'"
        )
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)
    with PostgresCluster() as cluster:
        yield cluster


def make_estate_db(cluster: PostgresCluster, name: str) -> str:
    dsn = cluster.create_database(name)
    definitions = load_estate()
    with psycopg.connect(dsn) as conn:
        create_schema(conn)
        load_definitions(conn, definitions)
        load_history(conn, History(definitions, NOW, HISTORY_DAYS))
    return dsn


@pytest.fixture(scope="session")
def estate_db(pg_cluster) -> str:
    """A Sundial database holding the fixture estate and its history."""
    return make_estate_db(pg_cluster, "sundial")
