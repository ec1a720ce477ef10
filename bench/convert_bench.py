"""Convert at estate scale: full convert, re-convert after one change, DAG parse time.

    .venv/bin/python bench/convert_bench.py [--sizes 1000 10000] [--parse-repeats 200]

Each convert runs in a fresh `migrate convert` process (wall time and peak RSS from the
child's rusage), on a seeded synthetic estate (fixtures/synthetic.py).  Parse time
compares, in the same warm process, Airflow's DagBag parse of a generated DAG file with a
hand-written minimal DAG that has the same operators and edges (bench/parse/).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synthetic import generate, write  # noqa: E402

MIGRATE = [sys.executable, "-m", "migrate.cli"]


def run_convert(source: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `migrate convert` child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    result = subprocess.run(
        [*MIGRATE, "convert", str(source), "--out", str(out), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"convert failed: {result.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def bench_size(n: int, work: Path) -> dict:
    source, out = work / f"estate-{n}", work / f"out-{n}"
    write(source, generate(n, seed=7))
    tasks = sum(
        len(json.loads(p.read_text())["task_definitions"])
        for p in source.glob("*.json")
    )
    full_wall, full_rss = run_convert(source, out)
    # change one process (a retry count) and convert into the same directory again
    victim = sorted(source.glob("*.json"))[n // 2]
    data = json.loads(victim.read_text())
    data["task_definitions"][0]["max_attempts"] += 1
    victim.write_text(json.dumps(data))
    again_wall, again_rss = run_convert(source, out)
    return {
        "processes": n,
        "tasks": tasks,
        "full_convert_s": round(full_wall, 2),
        "full_peak_rss_mib": round(full_rss),
        "reconvert_one_changed_s": round(again_wall, 2),
        "reconvert_peak_rss_mib": round(again_rss),
    }


def bench_parse(repeats: int) -> dict:
    """DagBag parse time of a generated file vs a hand-written minimal equivalent."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="parse-bench-"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from migrate.pipeline import convert
    from tests.conftest import ESTATE, load_dagbag, use_plugins

    out = Path(tempfile.mkdtemp(prefix="parse-bench-out-"))
    convert([ESTATE], out)
    use_plugins(out / "plugins")
    pairs = {
        "regional-sales-loads (batch, shell, optional join, run outcome)": (
            out / "dags" / "regional-sales-loads.py",
            ROOT / "bench" / "parse" / "handwritten_regional_sales_loads.py",
        ),
        "spark-daily-aggregations (EMR, batch, shell)": (
            out / "dags" / "spark-daily-aggregations.py",
            ROOT / "bench" / "parse" / "handwritten_spark_daily_aggregations.py",
        ),
    }
    results = {}
    for label, (generated, handwritten) in pairs.items():
        times = {}
        for kind, path in (("generated", generated), ("handwritten", handwritten)):
            folder = Path(tempfile.mkdtemp())
            shutil.copy(path, folder / path.name)
            load_dagbag(folder)  # warm: providers imported once, as in a DAG processor
            start = time.perf_counter()
            for _ in range(repeats):
                bag = load_dagbag(folder)
                assert not bag.import_errors, bag.import_errors
            times[kind] = (time.perf_counter() - start) / repeats * 1000
        results[label] = {
            "generated_ms": round(times["generated"], 2),
            "handwritten_ms": round(times["handwritten"], 2),
            "ratio": round(times["generated"] / times["handwritten"], 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--parse-repeats", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="convert-bench-"))
    try:
        for n in args.sizes:
            print(json.dumps(bench_size(n, work)), flush=True)
        for label, figures in bench_parse(args.parse_repeats).items():
            print(json.dumps({"parse": label, **figures}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
