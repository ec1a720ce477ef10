"""``shell_script_command``: SundialShellOperator runs the script as Sundial did."""

from __future__ import annotations

from migrate.convert.executables.context import SUPPORT, TaskContext, split_env
from migrate.ir import Ref, TaskNode
from migrate.sundial.model import ShellCommand

OPERATOR = Ref(f"{SUPPORT}.shell", "SundialShellOperator")

SUNDIAL_SHELL_DIRECTORY = (
    "Sundial ran every shell script in its service's own working directory (its shell "
    "executor, app/service/ShellCommandExecutor.scala, starts `bash <file>` without a "
    "directory of its own): one directory shared by every shell task of every process "
    "and kept between runs, so a file a script wrote relative to it (e.g. "
    "ledger/progress.txt) was there for later tasks and runs"
)


def map_shell(ctx: TaskContext, cmd: ShellCommand) -> TaskNode:
    node = ctx.node(OPERATOR, "shell")
    node.set("script", cmd.script, (ctx.field("script"),), "executor.shell")
    ctx.ledger.exact(
        ctx.field("script"),
        "run as `bash <file>` exactly as Sundial did, with no Jinja rendering and no "
        "template-file lookup (SundialShellOperator)",
    )
    _working_directory(ctx, node)
    plain, secret = split_env(ctx, cmd.env, ctx.field("environment_variables"))
    if plain:
        node.set(
            "env", plain, (ctx.field("environment_variables"),), "executor.shell.env"
        )
    if secret:
        node.set(
            "secret_env",
            secret,
            (ctx.field("environment_variables"),),
            "executor.shell.secret_env",
        )
    if ctx.task.require_explicit_success:
        node.set(
            "require_explicit_success",
            True,
            (f"{ctx.path}.require_explicit_success",),
            "executor.shell.explicit_success",
        )
    ctx.ledger.exact(
        f"{ctx.path}.require_explicit_success",
        (
            "**status=success / **status=failure honoured as Sundial did"
            if ctx.task.require_explicit_success
            else "exit code decides, as in Sundial (a printed **status= line is ignored)"
        ),
    )
    return node


def _working_directory(ctx: TaskContext, node: TaskNode) -> None:
    directory = ctx.settings["shell_working_directory"]
    where = ctx.rule("shell_working_directory")
    if directory is None:
        ctx.ledger.note(
            "approximated",
            ctx.field(),
            "working directory: a fresh temporary directory for each attempt, removed "
            f"when the attempt ends ({where}). {SUNDIAL_SHELL_DIRECTORY}; here such a "
            "file is gone when the attempt ends. Set shell_working_directory to a "
            "directory every worker shares if a script relies on files beside it",
        )
        return
    node.set(
        "working_directory",
        directory,
        (ctx.field(),),
        "executor.shell.working_directory",
    )
    ctx.ledger.note(
        "approximated",
        ctx.field(),
        f"working directory: {directory} on the worker ({where}), shared by every shell "
        f"task it runs and kept between runs. {SUNDIAL_SHELL_DIRECTORY}; the same only "
        "if every worker that runs shell tasks sees this one directory (a single "
        "worker, or a shared filesystem)",
    )
