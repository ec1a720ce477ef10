"""Keep stdout for the tool's own output.

Airflow logs (deprecation warnings, DagBag messages) to stdout.  A command whose stdout is
machine output (``migrate diff --json``) runs Airflow with file descriptor 1 pointed at
stderr, so the log lines still reach the user but never corrupt the JSON.
"""

from __future__ import annotations

import contextlib
import re
import os
import sys


@contextlib.contextmanager
def stdout_to_stderr():
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def quiet_dependency_warnings() -> None:
    """Hide deprecation warnings that Airflow and other dependencies raise about each
    other (e.g. pathspec's "GitWildMatchPattern is deprecated" while Airflow lists a DAG
    folder): they are not about the user's estate and nothing the user can act on.  Our
    own warnings still show, and so does everything when the user asked for warnings
    (``python -W ...`` or ``PYTHONWARNINGS``)."""
    import warnings

    if sys.warnoptions:
        return
    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!migrate\b)")


# Characters that move the cursor, rewrite the screen or reorder text when printed: C0
# controls but tab and newline, DEL and C1 (ESC/CSI/OSC sequences start with them), and
# Unicode's invisible format and bidirectional controls and line separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb]"
)


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to print: every character of ``_UNSAFE`` (from a process or task
    name, a server's message...) shown as its escape, ``\\x1b`` or ``\\u202e``."""
    return _UNSAFE.sub(_escaped, text)


def json_printable(text: str) -> str:
    """A JSON document safe to print, holding the same data: those characters (which can
    only be inside its strings) written as JSON's ``\\uXXXX`` escapes."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """click.echo of a line the tool prints, with its unsafe characters escaped."""
    import click

    click.echo(printable(str(message)), err=err, nl=nl)
