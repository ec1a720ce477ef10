"""What the generated DAGs cost inside Airflow, against hand-written DAGs doing the same.

    .venv/bin/python bench/dag_cost_bench.py [--sizes 1000 10000] [--rounds 3]
                                             [--scheduler-runs 3] [--no-scheduler]

Per size, on the seeded synthetic estate (fixtures/synthetic.py, seed 7):
- Airflow tasks per Sundial task, counted in the DAGs as Airflow loads them (DagBag);
- DagBag parse time of every generated file against its hand-written baseline
  (bench/parse/baseline.py: Airflow's own operators, one per Sundial task, same edges,
  retries, timeouts and schedule, no helper task), CPU time in one warm process, the two
  sets parsed in alternating rounds with the heap frozen first;
- the wall time of `migrate convert` itself (a fresh process, as bench/convert_bench.py).

Each size runs in a fresh process.  Then a real scheduler (LocalExecutor), dag-processor
and api-server on 127.0.0.1 (tests/live_airflow.py) run a generated 10-task shell chain
and its hand-written twin (ten BashOperator("true") in a chain), alternately, each going
first in every other round: wall time from the run queued to the run finished, as
Airflow records them.  `--sizes` with no size runs the scheduler part alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="dag-cost-bench-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from bench.convert_bench import run_convert  # noqa: E402
from fixtures.synthetic import generate, write  # noqa: E402


def _models(source: Path):
    from migrate.convert import convert_estate
    from migrate.mapping.rules import MappingRules
    from migrate.sundial.load import load_sources

    loaded = load_sources([source])
    assert not loaded.problems, loaded.problems[:3]
    return loaded.processes, convert_estate(
        loaded.processes, MappingRules.load(), "UTC"
    )


def _parse_all(folder: Path) -> tuple[float, int, int]:
    """(CPU seconds, DAGs, tasks) of one DagBag pass over every file in ``folder``."""
    from airflow.dag_processing.dagbag import DagBag

    start = time.process_time()
    bag = DagBag(dag_folder=str(folder), collect_dags=False, load_op_links=False)
    dags = tasks = 0
    for path in sorted(folder.glob("*.py")):
        bag.process_file(str(path), only_if_updated=False, safe_mode=False)
        assert not bag.import_errors, list(bag.import_errors.items())[:1]
        for dag in bag.dags.values():
            dags += 1
            tasks += len(dag.tasks)
        bag.dags.clear()
    return time.process_time() - start, dags, tasks


def bench_size(n: int, work: Path, rounds: int) -> dict:
    from bench.parse.baseline import baseline_dag
    from tests.conftest import use_plugins

    source = work / f"estate-{n}"
    write(source, generate(n, seed=7))
    out = work / f"out-{n}"
    convert_s, _, convert_pss = run_convert(source, out)
    processes, models = _models(source)
    sundial_tasks = sum(len(p.tasks) for p in processes)
    baseline = work / f"baseline-{n}"
    baseline.mkdir()
    for model in models:
        (baseline / Path(model.file).name).write_text(
            baseline_dag(model), encoding="utf-8"
        )
    del models
    use_plugins(out / "plugins")
    generated = out / "dags"
    _parse_all(generated)  # warm: imports done once, as in a DAG processor
    _parse_all(baseline)
    gc.collect()
    gc.freeze()
    cpu = {"generated": 0.0, "baseline": 0.0}
    counts = {}
    for _ in range(rounds):  # alternate, so drift and noise hit both alike
        for kind, folder in (("generated", generated), ("baseline", baseline)):
            seconds, dags, tasks = _parse_all(folder)
            cpu[kind] += seconds
            counts[kind] = (dags, tasks)
    gc.unfreeze()
    return {
        "processes": n,
        "sundial_tasks": sundial_tasks,
        "airflow_tasks": counts["generated"][1],
        "airflow_tasks_per_sundial_task": round(
            counts["generated"][1] / sundial_tasks, 3
        ),
        "baseline_tasks": counts["baseline"][1],
        "parse_ms_per_file_generated": round(cpu["generated"] / rounds / n * 1000, 3),
        "parse_ms_per_file_baseline": round(cpu["baseline"] / rounds / n * 1000, 3),
        "parse_ratio": round(cpu["generated"] / cpu["baseline"], 3),
        "convert_s": round(convert_s, 2),
        "convert_peak_pss_mib": round(convert_pss),
    }


CHAIN = 10


def _chain_definition() -> dict:
    return {
        "process_definition_name": "shell-chain",
        "task_definitions": [
            {
                "task_definition_name": f"step-{i:02d}",
                "dependencies": (
                    [
                        {
                            "task_definition_name": f"step-{i - 1:02d}",
                            "success_required": True,
                        }
                    ]
                    if i
                    else []
                ),
                "executable": {"shell_script_command": {"script": "true\n"}},
                "max_attempts": 1,
                "backoff_base_seconds": 0,
            }
            for i in range(CHAIN)
        ],
    }


HANDWRITTEN_CHAIN = """from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, chain

with DAG(
    dag_id="handwritten-chain",
    schedule=None,
    catchup=False,
    is_paused_upon_creation=False,
):
    chain(*[BashOperator(task_id=f"step-{i:02d}", bash_command="true") for i in range(10)])
"""


def bench_scheduler(work: Path, runs: int) -> dict:
    from migrate.pipeline import convert
    from tests.live_airflow import LiveAirflow

    source = work / "chain.json"
    source.write_text(json.dumps(_chain_definition()), encoding="utf-8")
    out = work / "chain-out"
    convert([source], out)
    (out / "dags" / "handwritten_chain.py").write_text(HANDWRITTEN_CHAIN)
    airflow = LiveAirflow(
        work / "airflow",
        sys.executable,
        dags_folder=out / "dags",
        plugins_folder=out / "plugins",
        task_slots=4,
    )
    seconds: dict[str, list[float]] = {"shell-chain": [], "handwritten-chain": []}
    try:
        airflow.start()
        airflow.wait_for(lambda dags: set(seconds) <= set(dags), "both DAGs parsed")
        for i in range(runs):
            # alternate which goes first: the bench's first run also warms Airflow up
            for dag_id in sorted(seconds, reverse=i % 2 == 1):
                run_id = f"bench-{i}"
                airflow.trigger(dag_id, f"2024-01-{i + 1:02d}T00:00:00Z", run_id)
                run = airflow.wait_for_run(dag_id, run_id)
                assert run["state"] == "success", run
                queued = _time(run["queued_at"])
                seconds[dag_id].append(round(_time(run["end_date"]) - queued, 2))
    finally:
        airflow.stop()
    return {
        "scheduler_runs": runs,
        "generated_chain_s": seconds["shell-chain"],
        "handwritten_chain_s": seconds["handwritten-chain"],
    }


def _time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scheduler-runs", type=int, default=3)
    parser.add_argument("--no-scheduler", action="store_true")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dag-cost-bench-"))
    try:
        if args.one_size:
            print(json.dumps(bench_size(args.one_size, work, args.rounds)), flush=True)
            return
        for n in args.sizes:
            # each size in a fresh process: the modules and DAGs a DagBag pass leaves
            # behind (sys.modules keeps every parsed file) would weigh on the next
            # size's timings (seen: a ratio of 1.39 after the 1,000 run, 1.03 alone)
            subprocess.run(
                [sys.executable, __file__, "--one-size", str(n)]
                + ["--rounds", str(args.rounds)],
                check=True,
            )
        if not args.no_scheduler:
            print(json.dumps(bench_scheduler(work, args.scheduler_runs)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
