"""Fixtures for the Quartz differential tests (real Quartz 2.3.2 jar as the oracle)."""

from __future__ import annotations

import os

import pytest

from .oracle import Oracle, OracleUnavailable


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    try:
        return Oracle()
    except OracleUnavailable as e:
        if _ci():
            pytest.fail(f"{e} - required when CI is set", pytrace=False)
        pytest.skip(str(e))
