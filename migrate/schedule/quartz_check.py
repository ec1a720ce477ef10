"""Would Sundial have stored this cron schedule?  (field name, message) when it would not."""

from __future__ import annotations

from functools import lru_cache

from migrate.quartz import QuartzCron, QuartzRuntimeError, QuartzSyntaxError
from migrate.sundial.model import CronSchedule

_FIELD_NAMES = ("minutes", "hours", "day_of_month", "month", "day_of_week")


def quartz_problem(cron: CronSchedule) -> tuple[str | None, str] | None:
    fields = (cron.minutes, cron.hours, cron.day_of_month, cron.month, cron.day_of_week)
    if all(isinstance(f, str) for f in fields):
        return _problem(*fields)
    return _problem.__wrapped__(*fields)  # not hashable: never cached


@lru_cache(maxsize=4096)  # estates repeat the same few schedules thousands of times
def _problem(minutes, hours, day_of_month, month, day_of_week):
    cron = CronSchedule(minutes, hours, day_of_month, month, day_of_week)
    try:
        engine = QuartzCron.parse(
            cron.minutes, cron.hours, cron.day_of_month, cron.month, cron.day_of_week
        )
    except QuartzSyntaxError as exc:
        field = getattr(exc, "field", None)
        return (field if field in _FIELD_NAMES else None, str(exc))
    # Sundial's CronSchedule also required a next fire time (require(nextRunAfter(now)...)):
    # an expression Quartz parses but cannot evaluate, or one that never fires, was refused.
    from migrate.schedule.verify import PROOF_START

    try:
        upcoming = engine.next_fire_after(PROOF_START, "UTC")
    except QuartzRuntimeError as exc:
        return (None, f"Quartz accepts it but cannot compute a fire time ({exc})")
    if upcoming is None:
        return (None, "never fires (no such date), so Sundial refused it")
    return None
