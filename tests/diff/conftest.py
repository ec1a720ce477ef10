"""A conversion of the fixture estate per zone, made once per session, copied per test."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ESTATE


@pytest.fixture(scope="session")
def converted_zones(tmp_path_factory, converted_estate):
    """zone -> output dir.  Depends on converted_estate so the session's plugins folder
    (which registers the Quartz timetable with Airflow) exists before anything serializes.
    """
    from migrate.pipeline import convert

    out = {}
    for tz in ("UTC", "America/New_York", "Australia/Lord_Howe"):
        target = tmp_path_factory.mktemp("zone") / "airflow"
        result = convert([ESTATE], target, timezone=tz)
        assert not result.problems
        out[tz] = target
    return out


@pytest.fixture
def estate_copy(tmp_path, converted_zones):
    """A fresh, editable copy of the UTC conversion (dags/, plugins/, report/)."""
    target = tmp_path / "airflow"
    shutil.copytree(converted_zones["UTC"], target)
    return target
