"""The Quartz 2.3.2 ``CronExpression`` port, re-exported.

The engine lives in :mod:`migrate.support.sundial_compat.quartz` because generated DAGs
whose schedules no Unix cron can express use it at run time (the Quartz timetable shipped
in DIR/plugins/sundial_compat/); this module keeps the toolkit's import path
``migrate.quartz`` for everything else.  One source, two import names.
"""

from __future__ import annotations

import sys

from migrate.support.sundial_compat import quartz as _engine
from migrate.support.sundial_compat.quartz import (  # noqa: F401
    MAX_YEAR,
    QuartzCron,
    QuartzInfiniteLoopError,
    QuartzRuntimeError,
    QuartzSyntaxError,
)
from migrate.support.sundial_compat.quartz import _eval, _parse, _tz  # noqa: F401

__all__ = [
    "QuartzCron",
    "QuartzSyntaxError",
    "QuartzRuntimeError",
    "QuartzInfiniteLoopError",
    "MAX_YEAR",
]

# ``migrate.quartz._parse`` etc. stay importable under their old names.
for _name in ("_eval", "_parse", "_tz"):
    sys.modules[f"{__name__}.{_name}"] = getattr(_engine, _name)
