"""Injection-proofing at volume: N hypothesis examples of hostile strings (default 10,000).

Each example is one Sundial process whose names, script, env name/value, description,
image, queue and arguments are hostile text (quotes, triple quotes, backslashes, newlines,
NUL, unicode, Jinja, Python).  Every generated file must compile, be Black-clean and load in
a real DagBag (loaded in batches of 250 files), and every string must come back from the
loaded tasks exactly, after template rendering.  Prints counts and wall time.

    .venv/bin/python bench/injection_bench.py [--examples 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="injection-bench-"))
os.environ.setdefault("AIRFLOW_HOME", str(WORK / "airflow-home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=250)
    args = parser.parse_args()

    import black
    from hypothesis import HealthCheck, given, settings

    from migrate.codegen.python import render_dag
    from migrate.convert import convert_estate
    from migrate.sundial.model import SourceRef
    from migrate.sundial.wire import read_process
    from migrate.support import SUPPORT_PACKAGE
    from tests.codegen.test_injection import (
        RULES,
        _definition,
        _render_everything,
        hostile,
        name,
    )
    from tests.conftest import load_dagbag, use_plugins

    use_plugins(SUPPORT_PACKAGE.parent)
    mode = black.Mode(target_versions={black.TargetVersion.PY311})
    pending: list[tuple[Path, dict]] = []
    counts = {
        "examples": 0,
        "compiled": 0,
        "black_clean": 0,
        "loaded": 0,
        "strings_exact": 0,
    }
    failures: list[str] = []

    def flush() -> None:
        if not pending:
            return
        folder = pending[0][0].parent
        bag = load_dagbag(folder)
        for path, expect in pending:
            if str(path) in bag.import_errors:
                failures.append(f"{path.name}: import error")
                continue
            counts["loaded"] += 1
            dag = bag.dags[expect["dag_id"]]
            shell = dag.get_task(expect["shell_id"])
            submit = dag.get_task(expect["batch_id"])
            _render_everything(submit)  # what Airflow does before execute
            ok = (
                shell.script == expect["script"]
                and shell.env == {expect["env_name"]: expect["env_value"]}
                and submit.container_overrides["command"]
                == [expect["arg"], expect["script"]]
                and submit.job_queue == expect["queue"]
                and expect["process"] in dag.doc_md
            )
            if ok:
                counts["strings_exact"] += 1
            else:
                failures.append(f"{path.name}: a string changed")
        pending.clear()

    folder = Path(tempfile.mkdtemp(dir=WORK))

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        process_name=name,
        task_a=name,
        task_b=name,
        script=hostile,
        env_value=hostile,
        description=hostile,
        image=name,
        queue=name,
        arg=hostile,
    )
    def one(
        process_name, task_a, task_b, script, env_value, description, image, queue, arg
    ):
        nonlocal folder
        if task_a == task_b:
            task_b += "2"
        env_name = "PLAIN_VAR"
        data = _definition(
            process_name,
            task_a,
            task_b,
            script,
            env_name,
            env_value,
            description,
            image,
            queue,
            arg,
        )
        process = read_process(data, SourceRef("bench.json"))
        (model,) = convert_estate([process], RULES, "UTC")
        counts["examples"] += 1
        # one DagBag loads a whole batch: make DAG ids unique across the batch
        model.dag_id = f"ex{counts['examples']}-{model.dag_id}"
        model.arguments["dag_id"].value = model.dag_id
        source = render_dag(model)
        compile(source, "dag.py", "exec")
        counts["compiled"] += 1
        if black.format_str(source, mode=mode) == source:
            counts["black_clean"] += 1
        else:
            failures.append(f"example {counts['examples']}: not Black-clean")
        path = folder / f"dag_{counts['examples']}.py"
        path.write_text(source, encoding="utf-8")
        pending.append(
            (
                path,
                {
                    "dag_id": model.dag_id,
                    "shell_id": model.task_map[task_a],
                    "batch_id": model.task_map[task_b],
                    "script": script,
                    "env_name": env_name,
                    "env_value": env_value,
                    "arg": arg,
                    "queue": queue,
                    "process": process_name,
                },
            )
        )
        if len(pending) >= args.batch:
            flush()
            folder = Path(tempfile.mkdtemp(dir=WORK))

    start = time.monotonic()
    one()
    flush()
    elapsed = time.monotonic() - start
    print(
        " ".join(f"{k}={v}" for k, v in counts.items()),
        f"failures={len(failures)}",
        f"wall={elapsed:.0f}s",
    )
    for f in failures[:10]:
        print("  ", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
