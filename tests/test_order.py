"""Output that does not depend on input order.

Sundial keeps no order of a process's tasks, of a task's dependencies or of its env vars
(a map), and two exports of one unchanged Sundial may list them differently (the API gives
database order; the database path reads JSON columns in jsonb's key order).  Whatever the
order of SOURCE arguments, definitions, tasks, dependencies, env vars and object keys,
``dags/``, ``plugins/`` and ``report/`` are the same bytes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.pipeline import convert
from tests.conftest import ESTATE
from tests.sundial_strategies import estates

OUTPUTS = ("dags", "plugins", "report")


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for part in OUTPUTS
        for p in sorted((root / part).rglob("*"))
        if p.is_file()
    }


def shuffled(value, rnd: random.Random):
    """``value`` with every object's keys, and the lists Sundial keeps no order of
    (tasks, dependencies, env vars), in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        out = {}
        for key in keys:
            item = shuffled(value[key], rnd)
            if key in ("task_definitions", "dependencies", "environment_variables"):
                item = list(item)
                rnd.shuffle(item)
            out[key] = item
        return out
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


def write(definitions: dict[str, dict], root: Path) -> list[Path]:
    files = []
    for rel, defn in definitions.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(defn, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    return files


def converted(files: list[Path], out: Path) -> dict[str, bytes]:
    result = convert(files, out, jobs=1, cache=False)
    assert not result.problems, [str(p) for p in result.problems]
    return tree(out)


def fixture_estate() -> dict[str, dict]:
    out = {}
    for path in sorted(ESTATE.rglob("*")):
        if path.suffix not in (".json", ".yaml"):
            continue
        import yaml

        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        out[path.relative_to(ESTATE).with_suffix(".json").as_posix()] = data
    return out


ESTATE_DEFINITIONS = fixture_estate()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_fixture_estate_in_any_order(tmp_path_factory, monkeypatch, seed):
    rnd = random.Random(seed)
    # Same relative source names in both runs, so the report (which names invalid files)
    # could match.
    monkeypatch.chdir(tmp_path_factory.mktemp("base"))
    expected = converted(write(ESTATE_DEFINITIONS, Path("src")), Path("out"))

    monkeypatch.chdir(tmp_path_factory.mktemp("other"))
    files = write(
        {rel: shuffled(d, rnd) for rel, d in ESTATE_DEFINITIONS.items()}, Path("src")
    )
    rnd.shuffle(files)  # the order of SOURCE arguments
    got = converted(files, Path("out"))
    assert got.keys() == expected.keys()
    assert [rel for rel in expected if got[rel] != expected[rel]] == []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(estate=estates(max_size=3), seed=st.integers(0, 2**32 - 1))
def test_any_estate_in_any_order(tmp_path_factory, monkeypatch, estate, seed):
    rnd = random.Random(seed)
    monkeypatch.chdir(tmp_path_factory.mktemp("base"))
    expected = converted(write({"estate.json": estate}, Path("src")), Path("out"))
    monkeypatch.chdir(tmp_path_factory.mktemp("other"))
    permuted = [shuffled(d, rnd) for d in estate]
    rnd.shuffle(permuted)
    got = converted(write({"estate.json": permuted}, Path("src")), Path("out"))
    assert [rel for rel in expected if got.get(rel) != expected[rel]] == []
    assert got.keys() == expected.keys()
