"""Convert time per target Airflow: the same seeded synthetic estate converted with each
``--airflow-version``, each convert a fresh `migrate convert` process into an empty
directory (no cache), best of ``--repeats``.

    .venv/bin/python bench/target_bench.py [--size 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synthetic import generate, write  # noqa: E402
from migrate.target import MINORS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="target-bench-") as tmp:
        estate = Path(tmp) / "estate"
        write(estate, generate(args.size, seed=7))
        print(f"convert {args.size} synthetic processes, best of {args.repeats}:")
        for minor in MINORS:
            best = None
            for _ in range(args.repeats):
                out = Path(tmp) / f"out-{minor}"
                shutil.rmtree(out, ignore_errors=True)
                started = time.monotonic()
                subprocess.run(
                    [sys.executable, "-m", "migrate.cli", "convert", str(estate)]
                    + ["--out", str(out), "--airflow-version", minor, "--no-cache"],
                    check=True,
                    capture_output=True,
                    cwd=ROOT,
                )
                took = time.monotonic() - started
                best = took if best is None else min(best, took)
            print(f"  Airflow {minor}: {best:.2f} s")


if __name__ == "__main__":
    main()
