"""Every cron schedule of the fixture estate gets an exact Airflow schedule in every zone:
one proven cron string where one exists, else the Quartz timetable (proven too)."""

from __future__ import annotations

import pytest

from migrate.convert import convert_estate
from migrate.mapping.rules import MappingRules
from migrate.schedule.choose import CRON, QUARTZ, choose_schedule
from migrate.sundial.model import CronSchedule

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]


@pytest.mark.parametrize("tz", ZONES)
def test_every_estate_cron_schedule_is_exact(tz, estate_processes):
    processes = sorted(estate_processes.values(), key=lambda p: p.name)
    models = convert_estate(processes, MappingRules.load(), tz, [])
    crons = 0
    for process, model in zip(processes, models):
        if not isinstance(process.schedule, CronSchedule):
            continue
        crons += 1
        (finding,) = [f for f in model.findings if f.field == "schedule.cron_schedule"]
        assert finding.severity == "exact", (tz, process.name, finding.message)
        choice = choose_schedule(process.schedule, tz)
        assert choice.exact and choice.proof.checked > 0
        if choice.kind == QUARTZ:
            assert "timetable" in model.support_modules
    assert crons >= 20


@pytest.mark.parametrize(
    "fields, tz, kind",
    [
        (("0", "5", "?", "*", "MON-FRI"), "America/New_York", CRON),
        (("0", "7", "L-3", "*", "?"), "UTC", QUARTZ),  # no cron has L-n
        (("30", "2", "*", "*", "?"), "UTC", CRON),
        # London's gap is 01:00-02:00, so 02:30 always exists: one cron
        (("30", "2", "*", "*", "?"), "Europe/London", CRON),
        # New York's gap is 02:00-03:00: Quartz skips the day, croniter fires at 03:30
        (("30", "2", "*", "*", "?"), "America/New_York", QUARTZ),
        # Quartz skips the first pass of Lord Howe's repeated half hour
        (("*/15", "*", "*", "*", "?"), "Australia/Lord_Howe", QUARTZ),
    ],
)
def test_simplest_exact_form_is_chosen(fields, tz, kind):
    choice = choose_schedule(CronSchedule(*fields), tz)
    assert choice.exact
    assert choice.kind == kind, (fields, tz, choice.kind)


@pytest.mark.parametrize(
    "day_of_week, years",
    [("* 2099", "2099"), ("MON-FRI 2026-2027", "2026..2027"), ("? 2030/2", "2030..")],
)
def test_a_quartz_year_field_is_never_dropped(day_of_week, years):
    """Sundial joins its five fields with spaces, so a sixth token is Quartz's year field.
    Unix cron has no year: the choice is the Quartz timetable, which stops (or starts)
    where Sundial did, never a cron string that fires every year."""
    day_of_month = "*" if day_of_week.startswith("?") else "?"
    choice = choose_schedule(
        CronSchedule("0", "3", day_of_month, "*", day_of_week), "UTC"
    )
    assert choice.kind == QUARTZ and choice.cron is None
    assert f"fires only in {years}" in choice.translation.reasons[0]


def test_a_proof_that_compares_nothing_is_never_exact():
    """No fire time in the two-year horizon: Sundial and the DAG agree on nothing, which
    proves nothing; a year range inside the horizon is proven in full."""
    never = choose_schedule(CronSchedule("0", "3", "?", "*", "* 2099"), "UTC")
    assert never.proof.checked == 0 and not never.exact
    inside = choose_schedule(CronSchedule("0", "3", "?", "*", "* 2026-2027"), "UTC")
    assert inside.exact and inside.proof.checked == 730
    assert inside.proof.scope.startswith("every fire time in 730 days")
