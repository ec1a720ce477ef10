"""Convert at estate scale: full convert, re-convert after one change, DAG parse time,
the size of the reports and how long the HTML index takes to open.

    .venv/bin/python bench/convert_bench.py [--sizes 1000 10000] [--parse-repeats 200]

Each convert runs in a fresh `migrate convert` process, on a seeded synthetic estate
(fixtures/synthetic.py): wall time, peak RSS of the largest process (rusage) and peak PSS
of the parent and its worker processes together (sampled from /proc).  Per size: a full
convert into an empty directory, the re-convert after one definition changed (the cache
at work), the same with --no-cache, and a full convert with one worker (--jobs 1).  Parse time
compares, in the same warm process, Airflow's DagBag parse of a generated DAG file with a
hand-written minimal DAG, one Airflow operator per Sundial task (bench/parse/): CPU time,
the two files timed in alternating rounds, the heap frozen first so that a garbage
collection of convert's leftovers does not land in one file's timing.

Report figures, after the full convert: the size of each estate-wide report file (the
JSON and Markdown reports, the HTML index and its assets) and of the process pages, and
the time report/index.html takes to open in headless Chromium (Debian's, driven by the
playwright package: from the request to the load event and to the first paint, median
of 3 fresh pages), and to filter its table by a name.
"""

from __future__ import annotations

import argparse
import gc
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


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (the convert workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (fork's copy-on-write) counted once overall."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_convert(source: Path, out: Path, *extra: str) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB of the largest process, peak PSS MiB of the parent
    and its workers together, sampled every 20 ms) of one `migrate convert` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.Popen(
        [*MIGRATE, "convert", str(source), "--out", str(out), "-q", *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_total = 0
    while proc.poll() is None:
        peak_total = max(peak_total, sum(_pss_kib(p) for p in _tree(proc.pid)))
        time.sleep(0.02)
    wall = time.monotonic() - start
    stderr = proc.stderr.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"convert failed: {stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, peak_total / 1024


def bench_size(n: int, work: Path) -> dict:
    source, out = work / f"estate-{n}", work / f"out-{n}"
    write(source, generate(n, seed=7))
    tasks = sum(
        len(json.loads(p.read_text())["task_definitions"])
        for p in source.glob("*.json")
    )
    full_wall, full_rss, full_total = run_convert(source, out)
    # change one process (a retry count) and convert into the same directory again
    victim = sorted(source.glob("*.json"))[n // 2]
    data = json.loads(victim.read_text())
    data["task_definitions"][0]["max_attempts"] += 1
    victim.write_text(json.dumps(data))
    again_wall, again_rss, again_total = run_convert(source, out)
    report = report_figures(out)
    nocache_wall, nocache_rss, nocache_total = run_convert(source, out, "--no-cache")
    one_wall, one_rss, _ = run_convert(
        source, work / f"out-{n}-one-core", "--jobs", "1"
    )
    return {
        "processes": n,
        "tasks": tasks,
        "full_convert_s": round(full_wall, 2),
        "full_peak_rss_mib_largest_process": round(full_rss),
        "full_peak_pss_mib_all_processes": round(full_total),
        "full_convert_one_worker_s": round(one_wall, 2),
        "full_convert_one_worker_peak_rss_mib": round(one_rss),
        "reconvert_one_changed_s": round(again_wall, 2),
        "reconvert_peak_pss_mib": round(again_total),
        "reconvert_no_cache_s": round(nocache_wall, 2),
        **report,
    }


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def report_figures(out: Path) -> dict:
    folder = out / "report"
    files = ["parity.json", "provenance.json", "parity.md", "index.html"]
    sizes = {name: _size(folder / name) for name in files}
    assets = sum(_size(p) for p in (folder / "assets").glob("*"))
    pages = [p.stat().st_size for p in (folder / "processes").glob("*.html")]
    reports = sum(sizes.values()) + assets
    figures = {
        f"report_{name.replace('.', '_')}_mb": round(size / 1e6, 1)
        for name, size in sizes.items()
    }
    figures.update(
        {
            "report_files_mb": round(reports / 1e6, 1),
            "report_pages": len(pages),
            "report_pages_mb": round(sum(pages) / 1e6, 1),
            "report_page_kb_mean": round(sum(pages) / max(1, len(pages)) / 1e3, 1),
            "report_page_kb_max": round(max(pages, default=0) / 1e3, 1),
            "report_total_mb": round((reports + sum(pages)) / 1e6, 1),
        }
    )
    figures.update(index_load(folder / "index.html"))
    return figures


def index_load(index: Path) -> dict:
    """Open the index in headless Chromium: ms to the load event and to the first
    contentful paint (median of 3 fresh pages), and to filter the table by a name."""
    from tests import browser

    why = browser.missing()
    if why is not None:
        return {"index_load": f"not measured: {why}"}
    loads, paints, filters = [], [], []
    with browser.chromium() as context:
        for _ in range(3):
            page = context.new_page()
            start = time.monotonic()
            page.goto(index.resolve().as_uri(), wait_until="load")
            loads.append((time.monotonic() - start) * 1000)
            paints.append(
                page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint')[0]"
                    "?.startTime ?? -1"
                )
            )
            start = time.monotonic()
            page.fill("#q", "etl-0001")  # the input handler filters synchronously
            shown = page.text_content("#shown")
            filters.append((time.monotonic() - start) * 1000)
            assert not shown.startswith(shown.split(" of ")[-1]), shown
            page.close()
    return {
        "index_load_ms": round(sorted(loads)[1]),
        "index_first_paint_ms": round(sorted(paints)[1]),
        "index_filter_ms": round(sorted(filters)[1]),
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
        "regional-sales-loads (batch, shell, optional dependencies)": (
            out / "dags" / "regional-sales-loads.py",
            ROOT / "bench" / "parse" / "handwritten_regional_sales_loads.py",
        ),
        "spark-daily-aggregations (EMR, batch, shell)": (
            out / "dags" / "spark-daily-aggregations.py",
            ROOT / "bench" / "parse" / "handwritten_spark_daily_aggregations.py",
        ),
    }
    # what convert left on the heap must not be collected inside one file's timing
    gc.collect()
    gc.freeze()
    results = {}
    rounds = 10
    for label, (generated, handwritten) in pairs.items():
        folders = {}
        for kind, path in (("generated", generated), ("handwritten", handwritten)):
            folder = Path(tempfile.mkdtemp())
            shutil.copy(path, folder / path.name)
            load_dagbag(folder)  # warm: providers imported once, as in a DAG processor
            folders[kind] = folder
        times = {kind: 0.0 for kind in folders}
        for _ in range(rounds):  # alternate, so drift and noise hit both alike
            for kind, folder in folders.items():
                start = time.process_time()
                for _ in range(max(1, repeats // rounds)):
                    bag = load_dagbag(folder)
                    assert not bag.import_errors, bag.import_errors
                times[kind] += time.process_time() - start
        per = max(1, repeats // rounds) * rounds
        results[label] = {
            "generated_ms": round(times["generated"] / per * 1000, 2),
            "handwritten_ms": round(times["handwritten"] / per * 1000, 2),
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
