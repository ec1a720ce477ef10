"""Generated shell DAGs run in real Airflow (`airflow dags test`) like Sundial ran them, on
every Airflow minor they are written for (3.0 to 3.3, each converted with
``--airflow-version`` and run by that Airflow of tests/matrix).

Expectations come from Sundial's task rules (tests/run/sundial_rules.py) applied
to what each fixture script is written to do; the mapping code is never asked.  Evidence:
the trace lines and files the scripts write, and the task-instance rows Airflow recorded.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from migrate.target import MINORS, TARGETS
from tests.matrix.conftest import matrix_python
from tests.run.harness import (
    RUN_FIXTURES,
    AirflowSession,
    convert_run_fixtures,
    read_trace,
    run_parallel,
)
from tests.run.sundial_rules import backoff, load_processes, simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=MINORS, ids=[f"airflow-{m}" for m in MINORS])
def shell_minor(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def run_conversion(shell_minor, tmp_path_factory):
    """fixtures/run converted for that Airflow: (output folder, parity.json)."""
    out = tmp_path_factory.mktemp(f"run-converted-{shell_minor}")
    return out, convert_run_fixtures(out, airflow_version=shell_minor)


@pytest.fixture(scope="module")
def airflow_session(shell_minor, run_conversion, tmp_path_factory):
    """`airflow db migrate` of that Airflow once; DAGs and plugins from its conversion."""
    out, _ = run_conversion
    return AirflowSession(
        tmp_path_factory.mktemp(f"airflow-{shell_minor}"),
        out / "dags",
        out / "plugins",
        bin_dir=matrix_python(shell_minor).parent,
    )


@pytest.fixture(scope="module")
def parity(run_conversion):
    _, report = run_conversion
    return {p["process"]: p for p in report["processes"]}


DATE = "2024-03-01"

# What each fixture script does: attempts that fail before one succeeds (None: all fail).
SCRIPTED_FAILURES = {
    "run-deps": {"right": None},
    "run-optional-leaf": {"fails": None},
    "run-all-succeed": {},
    "run-required-chain": {"second": None},
    "run-retries": {
        "exp.always.fails": None,
        "linear.always.fails": None,
        "recovers.second": 1,
        "single.attempt": None,
    },
    "run-timeouts": {"killed.slow": None, "killed.retried": None},
    # Sundial: with require_explicit_success only a **status=success line makes the
    # attempt a success; without it the exit code decides (a status line is ignored).
    "run-explicit-success": {
        "explicit.failure": None,
        "explicit.missing": None,
        "implicit.exit.code": None,
    },
    "run-literal": {},
}

PROCESSES = {}
for _file in (
    "run_dependencies.json",
    "run_retries_timeouts.json",
    "run_explicit_success.json",
    "run_literal.json",
):
    PROCESSES.update(load_processes(RUN_FIXTURES / _file))

SECRET_VALUE = next(
    v["value"]
    for t in PROCESSES["run-literal"]["task_definitions"]
    for v in t["executable"]["shell_script_command"].get("environment_variables", [])
    if v["variable_name"] == "DB_PASSWORD"
)


def _secret_variable(parity) -> str:
    (key,) = [
        c["id"]
        for c in parity["run-literal"]["to_create"]
        if c["kind"] == "variable" and "'DB_PASSWORD'" in c["purpose"]
    ]
    return key


@pytest.fixture(scope="module")
def shell_runs(airflow_session, parity, run_conversion):
    """Every shell process run once, side by side, each in its own AIRFLOW_HOME copy."""
    out, _ = run_conversion
    secret_env = {f"AIRFLOW_VAR_{_secret_variable(parity).upper()}": SECRET_VALUE}
    worker_env = {"SHARED_WITH_WORKER": "from the worker"}

    def job(process):
        entry = parity[process]
        home = airflow_session.home(f"shell-{process}")
        env = {**worker_env, **(secret_env if process == "run-literal" else {})}
        return lambda: home.dags_test(
            entry["dag_id"], DATE, dag_file=out / entry["file"], env=env
        )

    # Longest first: retries and timeouts wait out their backoffs / kills.
    order = ["run-retries", "run-timeouts", "run-deps", "run-literal"]
    order += [p for p in SCRIPTED_FAILURES if p not in order]
    return run_parallel({p: job(p) for p in order}, workers=3)


def _starts(trace, name):
    return [t for n, what, t in trace if n == name and what == "start"]


def _ends(trace, name):
    return [t for n, what, t in trace if n == name and what == "end"]


def check_against_sundial(process: str, result, parity, traced: bool = True) -> dict:
    """The run did what Sundial's rules say: who ran, how often, in which order, states.

    ``traced``: the process's scripts append start/end lines to $SUNDIAL_RUN_OUT/trace.
    """
    definition = PROCESSES[process]
    fate, outcome = simulate(definition, SCRIPTED_FAILURES[process])
    trace = read_trace(result.run_out)
    task_ids = parity[process]["tasks"]
    context = result.describe()
    for name, expected in fate.items():
        starts = _starts(trace, name)
        if traced:
            assert len(starts) == expected.attempts, (name, starts, context)
        state = result.states.get(task_ids[name])
        if not expected.ran:
            assert state in ("upstream_failed", "skipped"), (name, state, context)
            continue
        assert state == ("success" if expected.succeeded else "failed"), (
            name,
            state,
            context,
        )
        assert len(result.tries[task_ids[name]]) == expected.attempts, (name, context)
        task = next(
            t
            for t in definition["task_definitions"]
            if t["task_definition_name"] == name
        )
        for dep in task["dependencies"] if traced else ():
            up = dep["task_definition_name"]
            if fate[up].ran:
                # required: after the upstream succeeded; optional: after it finished an
                # attempt.  Either way not before the upstream's first attempt ended.
                assert min(starts) >= min(_ends(trace, up)), (name, up, context)
    assert result.state == ("failed" if outcome == "failed" else "success"), context
    assert (result.returncode == 0) == (outcome == "succeeded"), context
    return fate


@pytest.mark.parametrize(
    "process",
    ["run-deps", "run-optional-leaf", "run-all-succeed", "run-required-chain"],
)
def test_dependencies_and_run_outcome(process, shell_runs, parity):
    """Required / optional edges, a task with both, diamonds, blocked tasks, the run state."""
    fate = check_against_sundial(process, shell_runs[process], parity)
    if process == "run-deps":
        # the interesting cases really happened
        assert not fate["diamond.bottom"].ran and not fate["mixed.blocked"].ran
        assert fate["opt.after.failed"].succeeded and fate["mixed.runs"].succeeded
        assert fate["ok.bottom"].succeeded
    if process == "run-optional-leaf":
        # the failed task is followed only by an optional dependant that succeeded:
        # Sundial still failed the run
        assert fate["cleanup"].succeeded and not fate["fails"].succeeded


def test_retries_attempts_and_backoff(shell_runs, parity, shell_minor):
    """attempt count == max_attempts; each wait >= base * exponent ** n (Sundial's backoff):
    Airflow's retry policy on 3.3, the operator's deferred wait before."""
    result = shell_runs["run-retries"]
    check_against_sundial("run-retries", result, parity)
    trace = read_trace(result.run_out)
    tasks = {
        t["task_definition_name"]: t
        for t in PROCESSES["run-retries"]["task_definitions"]
    }
    checked = 0
    for name, task in tasks.items():
        starts, ends = _starts(trace, name), _ends(trace, name)
        tries = result.tries[parity["run-retries"]["tasks"][name]]
        for n in range(1, len(starts)):
            wanted = backoff(task, n)
            script_gap = starts[n] - ends[n - 1]
            airflow_gap = tries[n].start - tries[n - 1].end
            assert script_gap >= wanted, (name, n, script_gap, wanted)
            if TARGETS[shell_minor].retry_policy:
                assert airflow_gap >= wanted, (name, n, airflow_gap, wanted)
            # and not some unrelated default delay (Airflow's is 300 s); the margin is
            # `airflow dags test` starting the try (twice when deferred) on a busy machine
            assert script_gap < wanted + 150, (name, n, script_gap, wanted)
            checked += 1
    assert checked == 2 + 2 + 1  # exp x2, linear x2, recovers x1
    output = result.output.read_text(errors="replace")
    deferred = (
        "Sundial's backoff: waiting" in output
        and "more before this attempt (deferred)" in output
        and "DateTimeTrigger" in output
    )
    # below 3.3 the longer waits were the operator's deferral (no worker held)
    assert deferred == (not TARGETS[shell_minor].retry_policy)


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_max_runtime_kills_long_attempts(shell_runs, parity):
    """An attempt older than max_runtime_seconds is killed (bash and its children) and failed."""
    result = shell_runs["run-timeouts"]
    check_against_sundial("run-timeouts", result, parity)
    trace = read_trace(result.run_out)
    tasks = {
        t["task_definition_name"]: t
        for t in PROCESSES["run-timeouts"]["task_definitions"]
    }
    for name in ("killed.slow", "killed.retried"):
        limit = tasks[name]["max_runtime_seconds"]
        assert _ends(trace, name) == [], "the script must not run to its end"
        assert not (result.run_out / f"{name}.finished").exists()
        for try_ in result.tries[parity["run-timeouts"]["tasks"][name]]:
            duration = try_.end - try_.start
            # killed at the limit, long before its script's `sleep 40` would end (the
            # try also counts Airflow starting it, seconds on a busy machine)
            assert limit <= duration < 40, (name, duration)
        pids = [
            int(p)
            for kind in ("bash", "sleep")
            for p in (result.run_out / f"{name}.{kind}.pid").read_text().split()
        ]
        assert len(pids) == 2 * tasks[name]["max_attempts"]
        assert all(_dead(p) for p in pids), pids
    assert _ends(trace, "fast.enough")


def test_require_explicit_success(shell_runs, parity):
    """**status=success / **status=failure decide when require_explicit_success is set."""
    result = shell_runs["run-explicit-success"]
    check_against_sundial("run-explicit-success", result, parity)
    # **metadata:KEY=VALUE lines are kept (as the task's XCom)
    db = sqlite3.connect(result.run_out.parents[1] / "airflow.db")
    try:
        (value,) = db.execute(
            "select value from xcom where dag_id = ? and run_id = ? and task_id = ? "
            "and key = 'return_value'",
            (
                result.dag_id,
                result.run_id,
                parity["run-explicit-success"]["tasks"]["explicit.success"],
            ),
        ).fetchone()
    finally:
        db.close()
    assert json.loads(value) == {"rows": "12"}


def test_environment_variables_byte_for_byte(shell_runs, parity):
    """Env vars reach `bash` exactly, added to the worker's environment, secrets included."""
    result = shell_runs["run-literal"]
    check_against_sundial("run-literal", result, parity, traced=False)
    raw = (result.run_out / "env.bin").read_bytes()
    env = dict(item.split(b"=", 1) for item in raw.split(b"\0") if item)
    (task,) = [
        t
        for t in PROCESSES["run-literal"]["task_definitions"]
        if t["task_definition_name"] == "env.bytes"
    ]
    wanted = task["executable"]["shell_script_command"]["environment_variables"]
    assert len(wanted) >= 10
    for var in wanted:
        name = var["variable_name"].encode()
        assert env.get(name) == var["value"].encode("utf-8"), var["variable_name"]
    # added to Sundial's (here: the worker's) own environment, the definition winning
    assert env[b"SUNDIAL_RUN_OUT"] == str(result.run_out).encode()
    assert env[b"SHARED_WITH_WORKER"] == b"from the definition"
    assert env[b"DB_PASSWORD"] == SECRET_VALUE.encode()


def test_scripts_run_literally(shell_runs, parity):
    """{{ ds }}, {% raw %}, {#, ${#arr[@]}, heredocs, a trailing .sh, a /bin/sh shebang:
    the script is run as `bash <file>`, untouched."""
    result = shell_runs["run-literal"]
    check_against_sundial("run-literal", result, parity, traced=False)
    out = result.run_out

    def read(name):
        return (out / name).read_text(encoding="utf-8")

    assert read("jinja.txt") == (
        "{{ ds }} {{ dag_run.run_id }} {% raw %}raw{% endraw %} {# comment #}\n"
        "{% if broken %} {{ unclosed\n"
        "{#\n"
        "{{ ds }}|{% if x %}|{#\n"
    )
    assert read("arrays.txt") == "3|eu west|7|6\nargs=2\n"
    assert read("heredoc.txt") == (
        "hello world sub $NAME\n"
        "quoted ${NAME} $(echo sub) {{ ds }}\n"
        "tabs stripped world\n"
    )
    assert read("helper.out") == "helper ran with 0 args from helper.sh\n"
    assert read("shebang.txt") == "bash\n"
    (task,) = [
        t
        for t in PROCESSES["run-literal"]["task_definitions"]
        if t["task_definition_name"] == "ends.in.sh"
    ]
    assert task["executable"]["shell_script_command"]["script"].endswith(".sh")


# -- the working directory -------------------------------------------------------------

LEDGER = {
    "process_definition_name": "run-ledger",
    "schedule": {
        "cron_schedule": {
            "minutes": "0",
            "hours": "6",
            "day_of_month": "*",
            "month": "*",
            "day_of_week": "?",
        }
    },
    "task_definitions": [
        {
            "task_definition_name": "append",
            "dependencies": [],
            "executable": {
                "shell_script_command": {
                    "script": 'mkdir -p ledger\npwd > "$SUNDIAL_RUN_OUT/append.pwd"\n'
                    "echo run >> ledger/progress.txt\n"
                }
            },
            "max_attempts": 1,
            "backoff_base_seconds": 0,
        },
        {
            "task_definition_name": "read",
            "dependencies": [
                {"task_definition_name": "append", "success_required": True}
            ],
            "executable": {
                "shell_script_command": {
                    "script": 'cp ledger/progress.txt "$SUNDIAL_RUN_OUT/seen"\n'
                }
            },
            "max_attempts": 1,
            "backoff_base_seconds": 0,
        },
    ],
}


def _convert_ledger(tmp_path, mappings: dict | None, minor: str):
    from migrate.pipeline import convert

    source = tmp_path / "ledger.json"
    source.write_text(json.dumps(LEDGER), encoding="utf-8")
    files = []
    if mappings is not None:
        rules = tmp_path / "rules.yaml"
        rules.write_text(json.dumps({"version": 1, "defaults": mappings}))
        files.append(rules)
    out = tmp_path / "out"
    result = convert([source], out, mappings=files, airflow_version=minor)
    assert not result.problems
    from migrate.report import read_parity  # every finding with its message

    (entry,) = read_parity(out / "report" / "parity.json")["processes"]
    found = [
        f["message"]
        for f in entry["findings"]
        if f["field"].endswith("executable.shell_script_command")
    ]
    return out, entry, found


def test_shell_working_directory_shared_and_kept(
    airflow_session, tmp_path, shell_minor
):
    """With shell_working_directory set, scripts run where Sundial's did: one directory,
    shared by the tasks and kept between runs (a relative file written by one task is read
    by the next, and is still there for the next run)."""
    shared = tmp_path / "sundial-work"
    out, entry, found = _convert_ledger(
        tmp_path, {"shell_working_directory": str(shared)}, shell_minor
    )
    assert len(found) == 2 and all(str(shared) in m for m in found)
    home = airflow_session.home("shell-ledger-shared", converted=out)
    first = home.dags_test(entry["dag_id"], "2024-03-01", dag_file=out / entry["file"])
    second = home.dags_test(entry["dag_id"], "2024-03-02", dag_file=out / entry["file"])
    assert first.state == "success", first.describe()
    assert second.state == "success", second.describe()
    assert (first.run_out / "append.pwd").read_text().strip() == str(shared)
    assert (first.run_out / "seen").read_text() == "run\n"
    assert (second.run_out / "seen").read_text() == "run\nrun\n"


def test_default_working_directory_is_per_attempt_and_reported(
    airflow_session, tmp_path, shell_minor
):
    """By default each attempt runs in a fresh temporary directory: the file the first
    task wrote is gone for the second, so the run fails, and the report says why."""
    out, entry, found = _convert_ledger(tmp_path, None, shell_minor)
    assert len(found) == 2
    assert all("fresh temporary directory" in m for m in found)
    assert all("shared by every shell task" in m for m in found)
    home = airflow_session.home("shell-ledger-default", converted=out)
    result = home.dags_test(entry["dag_id"], "2024-03-01", dag_file=out / entry["file"])
    assert result.state == "failed", result.describe()
    assert result.states[entry["tasks"]["append"]] == "success"
    assert result.states[entry["tasks"]["read"]] == "failed"
    workdir = (result.run_out / "append.pwd").read_text().strip()
    assert not os.path.exists(workdir)  # removed when the attempt ended
