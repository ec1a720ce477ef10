"""`migrate diff` at estate scale: a synthetic estate of N processes (default 10,000),
converted with migrate.pipeline.convert, then diffed over 365 days.

The diff step runs as its own process (`migrate diff ... --json`, as a user would run it)
and is measured alone: wall time, and peak memory as the largest sum of the resident set
sizes of the diff process and its DAG-parsing workers (sampled every 20 ms from /proc).
Target on a 2-core machine: <= 30 s, <= 1 GiB.

Fire times are computed once per distinct schedule (identical timetables give identical
times) and shared by every process that uses it; the output says how many were computed.

    .venv/bin/python bench/diff_bench.py [--processes 10000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIFF = (
    "import sys; from migrate.diff.command import diff_command; "
    "diff_command.main(sys.argv[1:], prog_name='migrate diff')"
)


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--horizon", type=int, default=365)
    parser.add_argument("--work", type=Path, default=None, help="reuse/keep files here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="diff-bench-"))
    estate, out = work / "estate", work / "out"
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(work / "airflow-home"))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    os.environ.update(env)

    marker = work / f"converted-{args.processes}-{args.seed}"
    if not marker.exists():
        from bench.synthetic_estate import generate, write
        from migrate.pipeline import convert

        t = time.perf_counter()
        write(estate, generate(args.processes, args.seed))
        result = convert([estate], out, timezone="UTC")
        assert not result.problems, result.problems[:3]
        marker.touch()
        print(
            f"generated and converted {args.processes} processes in "
            f"{time.perf_counter() - t:.1f} s (not part of the measurement)"
        )

    cmd = [
        sys.executable,
        "-c",
        DIFF,
        str(estate),
        "--dags",
        str(out / "dags"),
        "--horizon",
        str(args.horizon),
        "--start",
        "2026-01-01T00:00Z",
        "--json",
    ]
    peak = 0
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t
    done.set()
    sampler.join()
    report = json.loads(stdout)
    distinct = report["distinct_schedules_computed"]
    print(
        f"diff of {report['dags_loaded']} DAGs / {len(report['processes'])} processes over "
        f"{args.horizon} days: exit {proc.returncode}, {report['counts']}"
    )
    print(
        f"fire times computed once per distinct schedule: {distinct['sundial']} Sundial "
        f"(Quartz engine), {distinct['airflow']} Airflow timetables; every DAG was parsed "
        "by DagBag and compared"
    )
    print(f"wall time of the diff step: {wall:.1f} s (target <= 30 s)")
    print(
        f"peak RSS (diff process + workers): {peak / 2**20:.0f} MiB (target <= 1024 MiB)"
    )
    return 0 if proc.returncode == 0 and wall <= 30 and peak <= 2**30 else 1


if __name__ == "__main__":
    sys.exit(main())
