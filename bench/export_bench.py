"""Benchmark `migrate export --url`: a 10,000-process synthetic estate with 90 days of run
history, served by the fixture server in a separate process (so the figures are the
exporter's own).  Prints wall time, the exporter's CPU time (all its threads; user and
system apart: system time is mostly the kernel creating the 10,000 definition files,
which varies a lot with the machine's state) and peak RSS for two history sizes; peak
RSS should not grow with the history.

    .venv/bin/python bench/export_bench.py [--processes 10000] [--days 90]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(
    processes: int, days: float, runs_per_day: float
) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fixtures.server",
            "--synthetic",
            str(processes),
            "--history-days",
            str(days),
            "--runs-per-day",
            str(runs_per_day),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, proc.stdout.readline().strip()


def run_once(processes: int, days: float, runs_per_day: float) -> dict:
    """One export in a fresh interpreter, so each peak RSS is its own."""
    code = f"""
import json, resource, sys, time, tempfile
sys.path.insert(0, {str(ROOT)!r})
from migrate.extract.export import export_api
from migrate.extract.http import HttpOptions
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = tempfile.mkdtemp(prefix="export-bench-") + "/export"
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.perf_counter()
result = export_api(sys.argv[1], out, HttpOptions(timeout=120), history_days={days})
wall = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"wall": wall, "user": after.ru_utime - before.ru_utime,
                  "sys": after.ru_stime - before.ru_stime, "rss": after.ru_maxrss / 1024,
                  "rss_after_imports": base, "counts": result.manifest["counts"], "out": out}}))
"""
    server, url = serve(processes, days, runs_per_day)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, url],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(30)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    subprocess.run(["rm", "-rf", str(Path(result["out"]).parent)])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=90)
    parser.add_argument(
        "--runs-per-day",
        type=float,
        nargs="+",
        default=[0.05, 0.2],
        help="mean runs per process per day, one export per value",
    )
    args = parser.parse_args()
    print(
        f"export of {args.processes} synthetic processes, {args.days:g} days of history, "
        "fixture server in its own process"
    )
    print(
        f"{'runs/day':>9} {'runs':>9} {'tasks':>9} {'wall s':>8} {'user s':>7} "
        f"{'sys s':>6} {'peak RSS MiB':>13} {'(after imports)':>16}"
    )
    for rate in args.runs_per_day:
        r = run_once(args.processes, args.days, rate)
        c = r["counts"]
        print(
            f"{rate:>9g} {c['history_processes']:>9} {c['history_tasks']:>9} "
            f"{r['wall']:>8.2f} {r['user']:>7.2f} {r['sys']:>6.2f} {r['rss']:>13.1f} "
            f"{r['rss_after_imports']:>16.1f}"
        )
        assert c["process_definitions"] == args.processes
    return 0


if __name__ == "__main__":
    sys.exit(main())
