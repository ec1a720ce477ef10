"""One Sundial process -> one DagModel: process settings, tasks, retries, dependencies.

The passes run in order: DAG arguments and schedule, one unit per Sundial task (the executor
mappers), retry and timeout settings, the dependency rewrite (required / optional joins), the
run-outcome task (Sundial's run state and its notifications), the move of arguments every
task shares into default_args, and the ledger's closing account of every source field.
"""

from __future__ import annotations

from migrate.convert.executors import (
    BASE_ARGS,
    EMPTY,
    HOISTABLE,
    SUPPORT,
    TAKES,
    TaskContext,
    Unit,
    map_task,
)
from migrate.convert.ledger import FieldLedger
from migrate.convert.naming import assign_unique, sanitize
from migrate.ir import (
    Argument,
    Call,
    DagModel,
    Provenance,
    Ref,
    Seconds,
    TaskGroupNode,
    TaskNode,
    TriggerRuleValue,
)
from migrate.mapping.rules import MappingRules
from migrate.schedule.choose import CRON, choose_schedule, why_not_cron
from migrate.sundial.model import (
    ContinuousSchedule,
    EmailNotification,
    PagerDutyNotification,
    ProcessDefinition,
)
from migrate.sundial.wire import task_path

CRON_TIMETABLE = Ref("airflow.sdk", "CronTriggerTimetable")
QUARTZ_TIMETABLE = Ref(f"{SUPPORT}.timetable", "QuartzTimetable")
BACKOFF = Ref(f"{SUPPORT}.retry", "SundialBackoff")
OPTIONAL_JOIN = Ref(f"{SUPPORT}.outcome", "SundialOptionalUpstreamsOperator")
RUN_OUTCOME = Ref(f"{SUPPORT}.outcome", "SundialRunOutcomeOperator")
OUTCOME_TASK_ID = "sundial_run_outcome"
# The HOISTABLE arguments each operator takes: executors.TAKES and this module's operators
OPERATOR_TAKES = {**TAKES, OPTIONAL_JOIN: BASE_ARGS, RUN_OUTCOME: BASE_ARGS}
JOIN_SUFFIX = "__optional_upstreams"


def convert_process(
    process: ProcessDefinition, dag_id: str, rules: MappingRules, tz: str
) -> DagModel:
    settings = rules.resolve(process.name)
    ledger = FieldLedger()
    dag = DagModel(
        process=process.name,
        dag_id=dag_id,
        file=f"dags/{dag_id}.py",
        generations=process.generations,
        doc=_doc(process),
    )
    ledger.exact(
        "process_definition_name",
        f"dag_id {dag_id!r}; the original name is in the DAG's doc_md",
    )
    _dag_arguments(process, dag, settings, ledger)
    _schedule(process, dag, ledger, tz)

    task_ids = assign_unique(
        [t.name for t in process.tasks],
        lambda n: sanitize(n, allow_dot=False),
        taken={OUTCOME_TASK_ID},
    )
    units: dict[str, Unit] = {}
    for task in process.tasks:
        tctx = TaskContext(
            process=process,
            task=task,
            settings=rules.resolve(process.name, task.name),
            ledger=ledger,
            dag=dag,
            task_id=task_ids[task.name],
        )
        unit = map_task(tctx)
        task_id = task_ids[task.name]
        if task_id != task.name:
            ledger.exact(
                f"{task_path(task.name)}.task_definition_name",
                f"Airflow task id {task_id!r} (sanitized"
                + (
                    ", made unique"
                    if task_id != sanitize(task.name, allow_dot=False)
                    else ""
                )
                + "); the original name is in "
                + (
                    "its task group's tooltip"
                    if len(unit.nodes) > 1
                    else "the task's doc_md"
                ),
            )
        else:
            ledger.exact(
                f"{task_path(task.name)}.task_definition_name",
                "Airflow task id, unchanged",
            )
        _task_settings(tctx, unit)
        units[task.name] = unit
        if len(unit.nodes) > 1:
            dag.groups.append(
                TaskGroupNode(tctx.task_id, unit.group_tooltip or task.name)
            )
        dag.tasks.extend(unit.nodes)
        dag.edges.update(unit.edges)
        dag.task_map[task.name] = unit.exit.task_id

    has_optional = _dependencies(process, dag, units, ledger)
    _run_outcome(process, dag, settings, ledger, needed_for_optional=has_optional)
    _hoist_common_arguments(dag)
    dag.findings = ledger.close(process.present_fields, process.unknown_fields)
    return dag


def _doc(process: ProcessDefinition) -> str:
    lines = [f"Sundial process `{process.name}`, migrated by sundial-migrate."]
    if process.description:
        lines += ["", process.description]
    # Where the definition was read from is provenance (report/), not part of the DAG: the
    # same definition must give the same bytes from a file, an export or a database.
    lines += ["", f"Sundial API generation(s): {', '.join(process.generations)}"]
    return "\n".join(lines)


def _dag_arguments(
    process: ProcessDefinition, dag: DagModel, settings, ledger: FieldLedger
) -> None:
    dag.set(
        "dag_id",
        dag.dag_id,
        ("process_definition_name",),
        "naming.dag_id"
        + (
            f" (prefix from {settings.origin('dag_id_prefix')})"
            if settings["dag_id_prefix"]
            else ""
        ),
    )
    if process.description:
        first = (
            process.description.strip().splitlines()[0]
            if process.description.strip()
            else ""
        )
        dag.set(
            "description", first[:200], ("process_description",), "process.description"
        )
        ledger.exact(
            "process_description", "DAG description (first line) and doc_md (all of it)"
        )
    dag.set(
        "doc_md",
        dag.doc,
        ("process_definition_name", "process_description"),
        "process.doc",
    )
    dag.set("catchup", False, (), "process.catchup (Sundial never back-fills)")
    paused = bool(process.paused)
    dag.set("is_paused_upon_creation", paused, ("paused",), "process.paused")
    if process.paused is not None:
        ledger.exact("paused", f"is_paused_upon_creation={paused}")
    dag.set("max_active_runs", 1, ("overlap_action",), "process.overlap_action")
    if process.overlap_action == "wait":
        ledger.exact(
            "overlap_action",
            "wait: max_active_runs=1, so a due run starts once the running one ends",
        )
    else:
        ledger.approximated(
            "overlap_action",
            "terminate: Sundial killed the running run when the next one was due; Airflow has no "
            "such action, so max_active_runs=1 makes the due run wait instead. To kill long runs, "
            "set dagrun_timeout to the schedule's interval in a mapping rule (default_args cannot)",
        )
    tags = list(dict.fromkeys(settings["tags"] or []))
    dag.set("tags", tags, (), f"setting tags from {settings.origin('tags')}")
    default_args = {"owner": settings["owner"]}
    if settings["pool"]:
        default_args["pool"] = settings["pool"]
    default_args.update(settings["default_args"] or {})
    dag.set("default_args", default_args, (), "settings owner/pool/default_args")
    if process.doubled_dependencies:
        for task_name, upstream in process.doubled_dependencies:
            ledger.approximated(
                f"{task_path(task_name)}.dependencies",
                f"{upstream!r} is listed both as required and as optional: the signature of Sundial's "
                "API read-back bug (GET returned required dependencies twice and dropped optional "
                "ones). Treated as required; export from Sundial's database to recover optional ones",
            )


def _schedule(
    process: ProcessDefinition, dag: DagModel, ledger: FieldLedger, tz: str
) -> None:
    schedule = process.schedule
    if schedule is None:
        dag.set("schedule", None, (), "schedule.none")
        ledger.exact(
            "schedule", "no schedule: the DAG runs only when triggered, as in Sundial"
        )
        return
    if isinstance(schedule, ContinuousSchedule):
        field = "schedule.continuous_schedule"
        buffer = schedule.buffer_seconds or 0
        if buffer == 0:
            dag.set("schedule", "@continuous", (field,), "schedule.continuous")
            ledger.exact(
                field,
                "continuous with no buffer: '@continuous' starts a new run as soon as the previous ends",
            )
        else:
            dag.set("schedule", Seconds(buffer), (field,), "schedule.continuous")
            ledger.approximated(
                field,
                f"Sundial started the next run {buffer} s after the previous run's START (at once "
                f"when a run took longer); Airflow's timedelta schedule fires every {buffer} s from "
                "the DAG's first run and, with max_active_runs=1, runs a due run when the previous "
                "one ends. Start times can drift apart when runs are longer than the buffer",
            )
        return
    field = "schedule.cron_schedule"
    quartz = schedule.quartz_expression()
    choice = choose_schedule(schedule, tz)
    if choice.kind == CRON:
        dag.set(
            "schedule",
            Call(CRON_TIMETABLE, (choice.cron,), (("timezone", tz),)),
            (field,),
            "schedule.cron",
        )
        ledger.exact(
            field,
            f"Quartz '{quartz}' -> cron '{choice.cron}' in {tz}: identical fire times "
            f"({choice.proof.checked} compared: {choice.proof.scope})",
        )
        return
    dag.set(
        "schedule",
        Call(QUARTZ_TIMETABLE, (quartz,), (("timezone", tz),)),
        (field,),
        "schedule.quartz (no exact cron: Quartz timetable from the sundial_compat plugin)",
    )
    dag.support_modules.add("timetable")
    proof = choice.proof
    why = why_not_cron(choice, tz)
    if proof.exact:
        ledger.exact(
            field,
            f"Quartz '{quartz}' in {tz}: QuartzTimetable (plugins/sundial_compat, registered "
            f"by its AirflowPlugin) evaluates it with the Quartz engine, as Sundial did: "
            f"identical fire times ({proof.checked} compared: {proof.scope}). No cron string "
            f"is exact ({why}). Deploy plugins/ with the DAGs",
        )
        return
    ledger.approximated(
        field,
        f"Quartz '{quartz}' in {tz}: QuartzTimetable differs from the Quartz engine at "
        f"{len(proof.differences)} fire time(s) ({proof.scope}), first: {proof.describe(tz)}",
    )


def _task_settings(ctx: TaskContext, unit: Unit) -> None:
    task = ctx.task
    path = ctx.path
    work = unit.work
    # The task id is the Sundial name unless sanitizing changed it; a task group's tooltip
    # names its Sundial task; the DAG's doc_md names the process.  So a task gets a doc_md
    # only when it alone would not show its Sundial name.
    if len(unit.nodes) == 1 and ctx.task_id != task.name:
        unit.work.set(
            "doc_md",
            f"Sundial task `{task.name}`",
            (f"{path}.task_definition_name",),
            "task.doc (the task id differs from the Sundial name)",
        )
    retries = task.max_attempts - 1
    work.set("retries", retries, (f"{path}.max_attempts",), "task.max_attempts")
    base, exponent = task.backoff_base_seconds, task.backoff_exponent
    work.set(
        "retry_delay", Seconds(base), (f"{path}.backoff_base_seconds",), "task.backoff"
    )
    if exponent != 1.0 and retries > 0:
        work.set(
            "retry_policy",
            Call(BACKOFF, (), (("base_seconds", base), ("exponent", exponent))),
            (f"{path}.backoff_base_seconds", f"{path}.backoff_exponent"),
            "task.backoff (exact per-try delay via airflow.sdk RetryPolicy)",
        )
        ctx.dag.support_modules.add("retry")
    if not ctx.ledger.covers(f"{path}.max_attempts"):
        ctx.ledger.exact(
            f"{path}.max_attempts",
            f"retries={retries} ({task.max_attempts} attempts in all)",
        )
    delays = [int(base * exponent**n) for n in range(1, task.max_attempts)]
    if retries == 0:
        msg = "no retries, so no backoff"
    elif exponent == 1.0:
        msg = f"retry_delay={base} s before every retry, as Sundial ({delays})"
    else:
        msg = f"SundialBackoff retry policy: delays {delays} s, the same as Sundial's base*exponent**n"
    ctx.ledger.exact(f"{path}.backoff_base_seconds", msg)
    ctx.ledger.exact(f"{path}.backoff_exponent", msg)
    if task.max_runtime_seconds is not None:
        work.set(
            "execution_timeout",
            Seconds(task.max_runtime_seconds),
            (f"{path}.max_runtime_seconds",),
            "task.max_runtime_seconds",
        )
        ctx.ledger.exact(
            f"{path}.max_runtime_seconds",
            f"execution_timeout={task.max_runtime_seconds} s per attempt (Sundial checked every ~10 s)",
        )
    if not ctx.ledger.covers(f"{path}.require_explicit_success"):
        ctx.ledger.exact(
            f"{path}.require_explicit_success", "not required, as in Sundial"
        )


def _dependencies(
    process: ProcessDefinition,
    dag: DagModel,
    units: dict[str, Unit],
    ledger: FieldLedger,
) -> bool:
    """Required -> all_success edges; optional -> an ALL_DONE join.  True if any optional."""
    deps = {}
    for task in process.tasks:
        merged: dict[str, bool] = {}
        for d in task.dependencies:
            merged[d.task_name] = merged.get(d.task_name, False) or d.success_required
        deps[task.name] = merged

    # A task always runs (it can never end up skipped or upstream_failed) when all its
    # dependencies are optional and on tasks that always run.  Tasks are in a valid
    # topological order after this sort, so no recursion is needed.
    always_runs: dict[str, bool] = {}
    for name in _topological(deps):
        always_runs[name] = all(
            not req and always_runs[up] for up, req in deps[name].items()
        )

    def runs(name: str) -> bool:
        return always_runs[name]

    any_optional = False
    join_ids = assign_unique(
        [t.name for t in process.tasks],
        lambda n: units[n].entries[0].task_id.split(".")[0] + JOIN_SUFFIX,
        taken={n.task_id for n in dag.tasks} | {OUTCOME_TASK_ID},
    )
    for task in process.tasks:
        unit = units[task.name]
        path = f"{task_path(task.name)}.dependencies"
        required = sorted(u for u, req in deps[task.name].items() if req)
        optional = sorted(u for u, req in deps[task.name].items() if not req)
        for up in required:
            for entry in unit.entries:
                dag.edges.add((units[up].exit.task_id, entry.task_id))
        if required:
            ledger.exact(
                path,
                f"required: runs only after {', '.join(map(repr, required))} succeeded",
            )
        if not optional:
            if not task.dependencies:
                ledger.exact(path, "no dependencies")
            continue
        any_optional = True
        all_run = all(runs(up) for up in optional)
        if not required and all_run:
            for entry in unit.entries:
                entry.set(
                    "trigger_rule",
                    TriggerRuleValue("ALL_DONE"),
                    (path,),
                    "dependencies.optional",
                )
                for up in optional:
                    dag.edges.add((units[up].exit.task_id, entry.task_id))
        else:
            join_id = join_ids[task.name]
            if all_run:
                join = TaskNode(join_id, join_id, EMPTY)
            else:
                join = TaskNode(join_id, join_id, OPTIONAL_JOIN)
                join.set(
                    "upstream_entries",
                    {up: [e.task_id for e in units[up].entries] for up in optional},
                    (path,),
                    "dependencies.optional (skip when an optional upstream never ran)",
                )
                dag.support_modules.add("outcome")
            join.set(
                "trigger_rule",
                TriggerRuleValue("ALL_DONE"),
                (path,),
                "dependencies.optional",
            )
            join.set(
                "doc_md",
                f"Optional upstreams of Sundial task `{task.name}`",
                (path,),
                "dependencies.optional",
            )
            dag.tasks.append(join)
            for up in optional:
                dag.edges.add((units[up].exit.task_id, join.task_id))
            for entry in unit.entries:
                dag.edges.add((join.task_id, entry.task_id))
        for up in optional:
            upstream_task = process.task(up)
            notes = []
            if upstream_task.max_attempts > 1:
                notes.append(
                    f"Sundial released this task after {up!r}'s FIRST finished attempt (it has "
                    f"{upstream_task.max_attempts}); Airflow waits for its last attempt"
                )
            if not runs(up):
                notes.append(
                    f"if {up!r} never runs (a required upstream of it failed), Sundial left this "
                    "run waiting forever; Airflow skips this task and the run fails"
                )
            message = (
                f"optional: runs after {up!r} finished, whether it succeeded or failed"
            )
            if notes:
                ledger.approximated(path, message + "; " + "; ".join(notes))
            else:
                ledger.exact(path, message)
    return any_optional


def _topological(deps: dict[str, dict[str, bool]]) -> list[str]:
    remaining = {name: set(ups) for name, ups in deps.items()}
    order: list[str] = []
    ready = sorted(n for n, ups in remaining.items() if not ups)
    downstream: dict[str, list[str]] = {n: [] for n in deps}
    for name, ups in deps.items():
        for up in ups:
            downstream[up].append(name)
    while ready:
        name = ready.pop()
        order.append(name)
        for down in downstream[name]:
            remaining[down].discard(name)
            if not remaining[down]:
                ready.append(down)
    return order


def _run_outcome(
    process: ProcessDefinition,
    dag: DagModel,
    settings,
    ledger: FieldLedger,
    needed_for_optional: bool,
) -> None:
    emails = [n for n in process.notifications if isinstance(n, EmailNotification)]
    pagers = [n for n in process.notifications if isinstance(n, PagerDutyNotification)]
    paging = settings["sundial_notifications_mode"] == "all"
    for i, n in enumerate(process.notifications):
        if isinstance(n, EmailNotification):
            field = (
                f"subscriptions[{i}]"
                if n.legacy_subscription
                else f"notifications[{i}].email"
            )
            ledger.approximated(
                field,
                f"email to {n.email} when the run ends, notify_when={n.notify_when}"
                + (
                    " (2016 subscription: Sundial's default)"
                    if n.legacy_subscription
                    else ""
                )
                + ": same rule and subject ('Process succeeded|failed: <name>'); the body is a plain "
                "task table, not Sundial's HTML page",
            )
    pager_conns = []
    for j, n in enumerate(pagers):
        index = process.notifications.index(n)
        field = f"notifications[{index}].pagerduty"
        if not paging:
            ledger.exact(
                field,
                f"sundial_notifications_mode is 'email' ({settings.origin('sundial_notifications_mode')}): "
                "this Sundial never paged, so no PagerDuty call is generated",
            )
            continue
        conn_id = settings["pagerduty_conn_id"] + (
            f"_{j + 1}" if len(pagers) > 1 else ""
        )
        pager_conns.append(
            {"conn_id": conn_id, "num_consecutive_failures": n.num_consecutive_failures}
        )
        dag.to_create.append(
            (
                "connection",
                conn_id,
                f"PagerDuty Events connection for process {process.name!r}: put the service key "
                f"(routing key) in its password and {n.api_url} in its host",
            )
        )
        ledger.manual(
            field,
            f"pages when the last {n.num_consecutive_failures} run(s) failed, as Sundial; the service "
            f"key is not written into the DAG: create Airflow connection {conn_id!r} with it",
        )
    notify = bool(emails) or bool(pager_conns)
    if not notify and not needed_for_optional:
        return
    node = TaskNode(OUTCOME_TASK_ID, OUTCOME_TASK_ID, RUN_OUTCOME)
    dag.support_modules.add("outcome")
    node.set("trigger_rule", TriggerRuleValue("ALL_DONE"), (), "run_outcome")
    node.set("process_name", process.name, ("process_definition_name",), "run_outcome")
    if emails:
        node.set(
            "emails",
            [
                {"name": n.name, "email": n.email, "notify_when": n.notify_when}
                for n in emails
            ],
            ("notifications", "subscriptions"),
            "notifications.email",
        )
        node.set(
            "smtp_conn_id",
            settings["smtp_conn_id"],
            (),
            f"setting smtp_conn_id from {settings.origin('smtp_conn_id')}",
        )
        if settings["email_from"]:
            node.set(
                "email_from",
                settings["email_from"],
                (),
                f"setting email_from from {settings.origin('email_from')}",
            )
        dag.to_create.append(
            (
                "connection",
                settings["smtp_conn_id"],
                "SMTP connection used for Sundial's email notifications",
            )
        )
    if pager_conns:
        node.set(
            "pagerduty", pager_conns, ("notifications",), "notifications.pagerduty"
        )
    node.set(
        "doc_md",
        "Sundial's run outcome: the run fails if any task's last attempt failed"
        + ("; sends the process's notifications" if notify else ""),
        (),
        "run_outcome",
    )
    for other in dag.tasks:
        dag.edges.add((other.task_id, node.task_id))
    dag.tasks.append(node)


def _hoist_common_arguments(dag: DagModel) -> None:
    """Move an argument into the DAG's default_args when every task that takes it has it, with
    one value (AWS connection and region, sensor settings, retries shared by all tasks).

    Airflow gives a default_args entry only to the operators that take that parameter, and
    each of those has it explicitly today, so every task ends up with the same value: the
    file just says it once.  A key the mapping rules' default_args already set to another
    value stays on the tasks.  The provenance moves with the value: default_args lists the
    union of the Sundial fields and the rules that produced it."""
    takes = [OPERATOR_TAKES.get(node.operator) for node in dag.tasks]
    if None in takes:  # an operator the table does not know: leave everything as it is
        return
    takers_of: dict[str, list[TaskNode]] = {name: [] for name in HOISTABLE}
    for node, names in zip(dag.tasks, takes):
        for name in names:
            takers_of[name].append(node)
    default_args = dag.arguments["default_args"]
    merged = dict(default_args.value)
    fields = list(default_args.provenance.fields)
    rules = [default_args.provenance.rule]
    for name in HOISTABLE:
        takers = takers_of[name]
        if len(takers) < 2 or any(name not in n.arguments for n in takers):
            continue
        value = takers[0].arguments[name].value
        if not all(_same(n.arguments[name].value, value) for n in takers) or (
            name in merged and not _same(merged[name], value)
        ):
            continue
        merged[name] = value
        origins: list[str] = []
        for node in takers:
            argument = node.arguments.pop(name)
            fields += argument.provenance.fields
            origins.append(argument.provenance.rule)
        rules.append(
            f"{name}: the same in every task that takes it ("
            + "; ".join(dict.fromkeys(origins))
            + ")"
        )
    if len(rules) > 1:
        dag.arguments["default_args"] = Argument(
            merged, Provenance(tuple(dict.fromkeys(fields)), "; ".join(rules))
        )


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b  # 1 and True are equal, but not the same code
