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
