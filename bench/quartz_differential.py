#!/usr/bin/env python3
"""Differential benchmark: migrate.quartz vs the real Quartz 2.3.2 jar.

Generates N random Quartz-valid Sundial schedules (all syntax forms), evaluates each in five
zones (UTC, America/New_York, Europe/London, Asia/Kolkata, Australia/Lord_Howe) for 100
consecutive fire times from a random start, and compares every result with the Java oracle
(tools/quartz-oracle).  Prints match/mismatch counts, the first mismatches and wall times.

    .venv/bin/python bench/quartz_differential.py [--n 10000] [--seed 1] [--fires 100]

Needs java, javac and the Quartz jar (apt-get install -y libquartz2-java default-jdk-headless).
Exit status is 1 if any mismatch was found.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.quartz import gen  # noqa: E402
from tests.quartz.oracle import ZONES, Oracle, describe, python_result  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="number of expressions")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fires", type=int, default=100, help="fire times per request")
    ap.add_argument("--chunk", type=int, default=5000, help="requests per JVM run")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    t_start = time.perf_counter()
    reqs = []
    for _ in range(args.n):
        expr = gen.valid_expression(rng)
        for zone in ZONES:
            start = rng.randint(1704067200, 1830297600)  # 2024 .. 2028
            if rng.random() < 0.3:
                start -= start % 60
            reqs.append((zone, expr, start * 1000, args.fires))

    oracle = Oracle()
    java_s = py_s = 0.0
    match = mismatch = 0
    kinds: dict[str, int] = {}
    fires = 0
    shown = []
    for i in range(0, len(reqs), args.chunk):
        part = reqs[i : i + args.chunk]
        t = time.perf_counter()
        java = oracle.run(part, limit_ms=10000)
        java_s += time.perf_counter() - t
        t = time.perf_counter()
        ours = [python_result(*r) for r in part]
        py_s += time.perf_counter() - t
        for req, j, p in zip(part, java, ours):
            kinds[j.kind] = kinds.get(j.kind, 0) + 1
            fires += len(p.times)
            if j.same_as(p):
                match += 1
            else:
                mismatch += 1
                if len(shown) < args.show:
                    shown.append(describe((req, j, p)))
        print(
            f"  {min(i + args.chunk, len(reqs))}/{len(reqs)} requests, "
            f"{mismatch} mismatches so far",
            file=sys.stderr,
            flush=True,
        )

    wall = time.perf_counter() - t_start
    print(f"expressions:        {args.n} x {len(ZONES)} zones = {len(reqs)} requests")
    print(f"fire times compared: {fires} (up to {args.fires} per request)")
    print(f"oracle outcomes:    {dict(sorted(kinds.items()))}")
    print(f"matches:            {match}")
    print(f"mismatches:         {mismatch}")
    for s in shown:
        print(s)
    print(f"java oracle time:   {java_s:.1f} s")
    print(
        f"python time:        {py_s:.1f} s ({py_s / max(fires, 1) * 1e6:.1f} us per fire time)"
    )
    print(f"wall time:          {wall:.1f} s")
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
