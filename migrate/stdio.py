"""Keep stdout for the tool's own output.

Airflow logs (deprecation warnings, DagBag messages) to stdout.  A command whose stdout is
machine output (``migrate diff --json``) runs Airflow with file descriptor 1 pointed at
stderr, so the log lines still reach the user but never corrupt the JSON.
"""

from __future__ import annotations

import contextlib
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
