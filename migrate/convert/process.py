"""One Sundial process -> one DagModel: process settings, tasks, retries, dependencies.

The passes run in order: DAG arguments and schedule, one Airflow task per Sundial task
(the mappers in migrate/convert/executables), retry and timeout settings, dependencies
(required: ALL_SUCCESS edges; optional: ALL_DONE, with the operator's own check of its
upstreams), the run-outcome task where Airflow's rule could differ from Sundial's, the
notifications as DAG callbacks, the move of arguments every task shares into default_args,
and the ledger's closing account of every source field.
"""

from __future__ import annotations

from migrate.convert.executables import (
    BASE_ARGS,
    HOISTABLE,
    SUPPORT,
    TAKES,
    TaskContext,
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
    TaskNode,
    TriggerRuleValue,
    Var,
)
from migrate.mapping.rules import MappingRules
from migrate.schedule.choose import CRON, choose_schedule, next_fire_words, why_not_cron
from migrate.sundial.model import (
    ContinuousSchedule,
    EmailNotification,
    PagerDutyNotification,
    ProcessDefinition,
)
from migrate.sundial.wire import task_path
from migrate.target import target

CRON_TIMETABLE = Ref("airflow.sdk", "CronTriggerTimetable")
QUARTZ_TIMETABLE = Ref(f"{SUPPORT}.timetable", "QuartzTimetable")
PENDULUM_DATETIME = Ref("pendulum", "datetime")  # a dependency of every Airflow 3
BACKOFF = Ref(f"{SUPPORT}.retry", "SundialBackoff")
RUN_OUTCOME = Ref(f"{SUPPORT}.outcome", "SundialRunOutcomeOperator")
NOTIFICATIONS = Ref(f"{SUPPORT}.notify", "SundialNotifications")
NOTIFICATIONS_VAR = "notifications"
OUTCOME_TASK_ID = "sundial_run_outcome"
# The HOISTABLE arguments each operator takes: the mappers' TAKES and this module's operator
OPERATOR_TAKES = {**TAKES, RUN_OUTCOME: BASE_ARGS}


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
        airflow=settings["airflow_version"],
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
    nodes: dict[str, TaskNode] = {}
    for task in process.tasks:
        tctx = TaskContext(
            process=process,
            task=task,
            settings=rules.resolve(process.name, task.name),
            ledger=ledger,
            dag=dag,
            task_id=task_ids[task.name],
        )
        node = map_task(tctx)
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
                + "); the original name is in the task's doc_md",
            )
        else:
            ledger.exact(
                f"{task_path(task.name)}.task_definition_name",
                "Airflow task id, unchanged",
            )
        _task_settings(tctx, node)
        nodes[task.name] = node
        dag.tasks.append(node)
        dag.task_map[task.name] = node.task_id

    _dependencies(process, dag, nodes, ledger)
    _notifications(process, dag, settings, ledger)
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
    if not settings["dags_paused_on_deploy"]:
        dag.set("is_paused_upon_creation", paused, ("paused",), "process.paused")
        if process.paused is not None:
            ledger.exact("paused", f"is_paused_upon_creation={paused}")
    elif paused:
        dag.set("is_paused_upon_creation", True, ("paused",), "process.paused")
        ledger.exact("paused", "paused in Sundial: the DAG is created paused too")
    else:
        dag.set(
            "is_paused_upon_creation",
            True,
            ("paused",),
            f"go_live.paused_on_deploy ({settings.origin('dags_paused_on_deploy')})",
        )
        ledger.manual(
            "paused",
            "live in Sundial: the DAG is created paused, so deploying it runs nothing "
            "Sundial also runs. Go live process by process: pause the Sundial process, "
            "let its run in progress end, then unpause the DAG (dags_paused_on_deploy: "
            "false makes every DAG start as its Sundial process was, for a big-bang switch)",
        )
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
            message = "continuous with no buffer: '@continuous' starts a new run as soon as the previous ends"
            if target(dag.airflow).continuous_needs_start_date:
                dag.set(
                    "start_date",
                    Call(PENDULUM_DATETIME, (2000, 1, 1), (("tz", "UTC"),)),
                    (field,),
                    "schedule.continuous (Airflow 3.0/3.1 start no @continuous DAG "
                    "without a start_date)",
                )
                message += (
                    f"; start_date 2000-01-01 UTC, because Airflow {dag.airflow} starts no "
                    "@continuous DAG without one (catchup=False: no run for the past)"
                )
            ledger.exact(field, message)
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
            Call(
                CRON_TIMETABLE,
                (choice.cron,),
                (("timezone", tz), ("run_immediately", Seconds(0))),
            ),
            (field,),
            "schedule.cron (run_immediately=0 s: the first run is the next fire time, "
            "never a past one Sundial may have run already)",
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
    if not proof.differences:  # nothing to compare: no fire time in the horizon
        ledger.approximated(
            field,
            f"Quartz '{quartz}' in {tz}: no fire time in the proof's horizon ({proof.scope}), "
            f"so nothing was compared and nothing is proven. QuartzTimetable evaluates it "
            f"with the Quartz engine, as Sundial did; {next_fire_words(schedule, tz)}. "
            "Check the expression (a year field?) and run `migrate diff` over a longer "
            "horizon",
        )
        return
    ledger.approximated(
        field,
        f"Quartz '{quartz}' in {tz}: QuartzTimetable differs from the Quartz engine at "
        f"{len(proof.differences)} fire time(s) ({proof.scope}), first: {proof.describe(tz)}",
    )


def _task_settings(ctx: TaskContext, work: TaskNode) -> None:
    task = ctx.task
    path = ctx.path
    # The task id is the Sundial name unless sanitizing changed it; the DAG's doc_md names
    # the process.  So a task gets a doc_md only when its id would not show its name.
    if ctx.task_id != task.name:
        work.set(
            "doc_md",
            f"Sundial task `{task.name}`",
            (f"{path}.task_definition_name",),
            "task.doc (the task id differs from the Sundial name)",
        )
    retries = task.max_attempts - 1
    work.set("retries", retries, (f"{path}.max_attempts",), "task.max_attempts")
    base, exponent = task.backoff_base_seconds, task.backoff_exponent
    if retries > 0:  # with no retry there is no delay to set
        work.set(
            "retry_delay",
            Seconds(base),
            (f"{path}.backoff_base_seconds",),
            "task.backoff",
        )
    delays = [int(base * exponent**n) for n in range(1, task.max_attempts)]
    backoff = exponent != 1.0 and retries > 0
    exact_per_try = target(ctx.dag.airflow).retry_policy
    if backoff and exact_per_try:
        work.set(
            "retry_policy",
            Call(BACKOFF, (), (("base_seconds", base), ("exponent", exponent))),
            (f"{path}.backoff_base_seconds", f"{path}.backoff_exponent"),
            "task.backoff (exact per-try delay via airflow.sdk RetryPolicy)",
        )
        ctx.dag.support_modules.add("retry")
    elif backoff:
        # Before 3.3 Airflow's exponential backoff is jittered: retry after the shortest of
        # Sundial's delays, and the operator waits the rest (deferred: no worker held).
        work.set(
            "retry_delay",
            Seconds(min(delays)),
            (f"{path}.backoff_base_seconds", f"{path}.backoff_exponent"),
            "task.backoff (the shortest of Sundial's delays; the operator waits the rest)",
        )
        work.set(
            "sundial_backoff",
            {"base_seconds": base, "exponent": exponent},
            (f"{path}.backoff_base_seconds", f"{path}.backoff_exponent"),
            "task.backoff (the operator defers for the rest of base*exponent**n)",
        )
    if not ctx.ledger.covers(f"{path}.max_attempts"):
        ctx.ledger.exact(
            f"{path}.max_attempts",
            f"retries={retries} ({task.max_attempts} attempts in all)",
        )
    if retries == 0:
        msg = "no retries, so no backoff"
    elif exponent == 1.0:
        msg = f"retry_delay={base} s before every retry, as Sundial ({delays})"
    elif exact_per_try:
        msg = f"SundialBackoff retry policy: delays {delays} s, the same as Sundial's base*exponent**n"
    else:
        msg = (
            f"delays {delays} s, the same as Sundial's base*exponent**n: Airflow "
            f"{ctx.dag.airflow} retries after {min(delays)} s and the operator waits the "
            "rest, deferred (no worker slot held)"
        )
    ctx.ledger.exact(f"{path}.backoff_base_seconds", msg)
    ctx.ledger.exact(f"{path}.backoff_exponent", msg)
    if task.max_runtime_seconds is not None:
        work.set(
            "execution_timeout",
            Seconds(task.max_runtime_seconds),
            (f"{path}.max_runtime_seconds",),
            "task.max_runtime_seconds",
        )
        if not ctx.ledger.covers(f"{path}.max_runtime_seconds"):
            ctx.ledger.exact(
                f"{path}.max_runtime_seconds",
                f"execution_timeout={task.max_runtime_seconds} s per attempt (Sundial "
                "checked every ~10 s)",
            )
    if not ctx.ledger.covers(f"{path}.require_explicit_success"):
        ctx.ledger.exact(
            f"{path}.require_explicit_success", "not required, as in Sundial"
        )


def _dependencies(
    process: ProcessDefinition,
    dag: DagModel,
    nodes: dict[str, TaskNode],
    ledger: FieldLedger,
) -> None:
    """Required upstreams: edges, ALL_SUCCESS (Airflow's default is Sundial's rule).  A task
    with optional upstreams: ALL_DONE, and its operator checks when it starts that the
    required ones succeeded and the optional ones ran (else it is skipped, as Sundial never
    ran it).  Then the run outcome, where Airflow's rule could differ from Sundial's."""
    deps = {}
    for task in process.tasks:
        merged: dict[str, bool] = {}
        for d in task.dependencies:
            merged[d.task_name] = merged.get(d.task_name, False) or d.success_required
        deps[task.name] = merged

    # A task always runs (it can never end up skipped or upstream_failed) when all its
    # dependencies are optional and on tasks that always run.  process.tasks lists
    # upstreams first, so no recursion is needed.
    always_runs: dict[str, bool] = {}
    for task in process.tasks:
        always_runs[task.name] = all(
            not req and always_runs[up] for up, req in deps[task.name].items()
        )

    for task in process.tasks:
        node = nodes[task.name]
        path = f"{task_path(task.name)}.dependencies"
        required = sorted(u for u, req in deps[task.name].items() if req)
        optional = sorted(u for u, req in deps[task.name].items() if not req)
        for up in required + optional:
            dag.edges.add((nodes[up].task_id, node.task_id))
        if required:
            ledger.exact(
                path,
                f"required: runs only after {', '.join(map(repr, required))} succeeded",
            )
        if not optional:
            if not task.dependencies:
                ledger.exact(path, "no dependencies")
            continue
        node.set("trigger_rule", TriggerRuleValue("ALL_DONE"), (path,), "dependencies")
        if required:
            node.set(
                "required_upstreams",
                [nodes[u].task_id for u in required],
                (path,),
                "dependencies.required (checked by the task: ALL_DONE waits for all)",
            )
        may_not_run = [u for u in optional if not always_runs[u]]
        if may_not_run:
            node.set(
                "optional_upstreams",
                [nodes[u].task_id for u in may_not_run],
                (path,),
                "dependencies.optional (skip when one never ran)",
            )
        for up in optional:
            upstream_task = process.task(up)
            notes = []
            if upstream_task.max_attempts > 1:
                notes.append(
                    f"Sundial released this task after {up!r}'s FIRST finished attempt "
                    f"(it has {upstream_task.max_attempts}); Airflow waits for its last "
                    "attempt"
                )
            if not always_runs[up]:
                notes.append(
                    f"if {up!r} never runs (a required upstream of it failed), Sundial "
                    "left this run waiting forever; Airflow skips this task and the run "
                    "fails"
                )
            message = (
                f"optional: runs after {up!r} finished, whether it succeeded or failed"
            )
            if notes:
                ledger.approximated(path, message + "; " + "; ".join(notes))
            else:
                ledger.exact(path, message)
    if _failure_can_be_hidden(process, deps):
        _outcome_task(dag)


def _failure_can_be_hidden(process: ProcessDefinition, deps) -> bool:
    """Could a failed task leave every last task of the run succeeded or skipped?  Airflow
    fails a run only through its last tasks; a failure reaches them through required
    edges into ALL_SUCCESS tasks (which become upstream_failed).  A task with optional
    upstreams runs anyway, or is skipped: there a failure stops travelling."""
    downstream: dict[str, list[str]] = {t.name: [] for t in process.tasks}
    for name, ups in deps.items():
        for up in ups:
            downstream[up].append(name)
    carries = {
        name: all(req for req in ups.values()) for name, ups in deps.items()
    }  # ALL_SUCCESS tasks
    shows: dict[str, bool] = {}
    for task in reversed(process.tasks):  # downstreams first
        name = task.name
        shows[name] = not downstream[name] or any(
            carries[d] and deps[d][name] and shows[d] for d in downstream[name]
        )
    return not all(shows.values())


def _outcome_task(dag: DagModel) -> None:
    node = TaskNode(OUTCOME_TASK_ID, RUN_OUTCOME)
    dag.support_modules.add("outcome")
    node.set("trigger_rule", TriggerRuleValue("ALL_DONE"), (), "run_outcome")
    node.set(
        "doc_md",
        "Sundial's run outcome: the run fails if any task's last attempt failed",
        (),
        "run_outcome (optional dependencies can hide a failure from Airflow's rule)",
    )
    # After the last tasks: they are done only once everything before them is.
    has_downstream = {up for up, _ in dag.edges}
    for other in dag.tasks:
        if other.task_id not in has_downstream:
            dag.edges.add((other.task_id, node.task_id))
    dag.tasks.append(node)


def _notifications(
    process: ProcessDefinition, dag: DagModel, settings, ledger: FieldLedger
) -> None:
    """Emails and PagerDuty as the DAG's success and failure callbacks (no task)."""
    emails = [n for n in process.notifications if isinstance(n, EmailNotification)]
    pagers = [n for n in process.notifications if isinstance(n, PagerDutyNotification)]
    paging = settings["sundial_notifications_mode"] == "all"
    topic = settings["sns_topic_arn"]
    sns_only = bool(topic) and settings["sns_notifications"] == "instead"
    sns_words = ""
    if topic:
        sns_words = (
            f"; published to SNS topic {topic} "
            + ("instead: no email is sent" if sns_only else "as well")
            + f" ({settings.origin('sns_topic_arn')})"
        )
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
                + ", sent by the DAG's success/failure callback (in the DAG processor): "
                "same rule and subject ('Process succeeded|failed: <name>'); the body is a "
                "plain task table, not Sundial's HTML page; the previous run is the one "
                "before in logical-date order" + sns_words,
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
        if sns_only:
            pager_conns.append(
                {
                    "conn_id": None,
                    "num_consecutive_failures": n.num_consecutive_failures,
                }
            )
            ledger.approximated(
                field,
                f"when the last {n.num_consecutive_failures} run(s) failed, as Sundial "
                f"paged, the DAG's failure callback publishes to SNS topic {topic} "
                f"instead of paging ({settings.origin('sns_notifications')})",
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
            f"pages when the last {n.num_consecutive_failures} run(s) failed, as Sundial, from "
            "the DAG's failure callback; the service key is not written into the DAG: "
            f"create Airflow connection {conn_id!r} with it"
            + sns_words.replace("no email is sent", "no page is sent"),
        )
    if not emails and not pager_conns:
        return
    kwargs: list[tuple[str, object]] = [("process_name", process.name)]
    fields = ["process_definition_name"]
    rules = ["notifications"]
    if emails:
        kwargs.append(
            (
                "emails",
                [
                    {"name": n.name, "email": n.email, "notify_when": n.notify_when}
                    for n in emails
                ],
            )
        )
        fields += ["notifications", "subscriptions"]
        if not sns_only:
            kwargs.append(("smtp_conn_id", settings["smtp_conn_id"]))
            rules.append(f"setting smtp_conn_id from {settings.origin('smtp_conn_id')}")
            if settings["email_from"]:
                kwargs.append(("email_from", settings["email_from"]))
                rules.append(f"setting email_from from {settings.origin('email_from')}")
            dag.to_create.append(
                (
                    "connection",
                    settings["smtp_conn_id"],
                    "SMTP connection used for Sundial's email notifications",
                )
            )
    if pager_conns:
        kwargs.append(("pagerduty", pager_conns))
    if topic:
        kwargs.append(
            (
                "sns",
                {
                    "topic_arn": topic,
                    "aws_conn_id": settings["aws_conn_id"],
                    "region_name": settings["region_name"],
                },
            )
        )
        if sns_only:
            kwargs.append(("sns_only", True))
        rules.append(
            f"setting sns_topic_arn from {settings.origin('sns_topic_arn')}"
            + (f", sns_notifications from {settings.origin('sns_notifications')}")
        )
        dag.to_create.append(
            (
                "connection",
                settings["aws_conn_id"],
                f"AWS connection allowed sns:Publish to {topic}",
            )
        )
    dag.support_modules.add("notify")
    provenance = Provenance(tuple(dict.fromkeys(fields)), "; ".join(rules))
    dag.bindings[NOTIFICATIONS_VAR] = Argument(
        Call(NOTIFICATIONS, (), tuple(kwargs)), provenance
    )
    for name in ("on_success_callback", "on_failure_callback"):
        dag.set(name, Var(NOTIFICATIONS_VAR), provenance.fields, "notifications")


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
