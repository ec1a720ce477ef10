"""Does Quartz 2.3 accept a Sundial cron schedule?  (field name, message) when it does not."""

from __future__ import annotations

from migrate.sundial.model import CronSchedule

_FIELD_NAMES = ("minutes", "hours", "day_of_month", "month", "day_of_week")


def quartz_problem(cron: CronSchedule) -> tuple[str | None, str] | None:
    try:
        from migrate.quartz import QuartzCron, QuartzSyntaxError
    except (
        ImportError
    ):  # the engine is optional at this layer; fall back to the field reader
        return _structural_problem(cron)
    try:
        QuartzCron.parse(
            cron.minutes, cron.hours, cron.day_of_month, cron.month, cron.day_of_week
        )
    except QuartzSyntaxError as exc:
        field = getattr(exc, "field", None)
        return (field if field in _FIELD_NAMES else None, str(exc))
    return None


def _structural_problem(cron: CronSchedule) -> tuple[str | None, str] | None:
    from migrate.schedule.quartz_fields import FieldError, parse_fields

    try:
        fields = parse_fields(
            cron.minutes, cron.hours, cron.day_of_month, cron.month, cron.day_of_week
        )
    except FieldError as exc:
        return exc.field, exc.message
    if (fields.day_of_month is None) == (fields.day_of_week is None):
        return (
            "day_of_week",
            "exactly one of day_of_month and day_of_week must be '?'",
        )
    return None
