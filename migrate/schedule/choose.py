"""Pick the simplest Airflow schedule whose fire times are Quartz's, and prove it.

In order:

1. one cron string (``CronTriggerTimetable``), when the translation exists and
   ``verify_cron`` finds no differing instant;
2. otherwise ``QuartzTimetable`` (shipped in DIR/plugins/sundial_compat/, registered by
   its AirflowPlugin), which evaluates the expression with the Quartz engine itself.

A union of cron strings (``MultipleCronTriggerTimetable``) is never a better answer for a
Quartz expression: every Quartz field is a set and the expression is their cartesian
product, which one cron string already expresses whenever croniter can read the day
forms; where it cannot (``L-n``, ``LW``, ``nL``: month length or the weekday of the last
day decide the date) no union of crons can either, and the DST differences (Quartz skips
a local time in a gap and the first pass of a repeated hour) are per-instant rules every
cron string in a union shares.  So no union is emitted.

Every choice is verified against the engine over the horizon (2 years by default); a
mismatch is reported, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from migrate.schedule.translate import CronTranslation, translate_cron
from migrate.schedule.verify import (
    DEFAULT_HORIZON_DAYS,
    PROOF_START,
    Verification,
    quartz_engine,
    verify_cron,
    verify_quartz_timetable,
)
from migrate.sundial.model import CronSchedule

CRON = "cron"
QUARTZ = "quartz"


@dataclass(frozen=True)
class ScheduleChoice:
    kind: str  # CRON or QUARTZ
    cron: str | None  # the cron string (CRON), or the rejected best cron (QUARTZ)
    translation: CronTranslation
    proof: Verification  # of what is emitted
    cron_proof: Verification | None = None  # of the rejected cron, for QUARTZ

    @property
    def exact(self) -> bool:
        return self.proof.exact


# proven choices: (schedule, zone, horizon) -> choice.  An estate repeats a few hundred
# schedules thousands of times; `migrate convert` also keeps them between runs (its cache)
# and hands them to its worker processes, so each distinct schedule is proven once.
_CHOICES: dict[tuple[CronSchedule, str, int], ScheduleChoice] = {}


def known_choices() -> dict[tuple[CronSchedule, str, int], ScheduleChoice]:
    return dict(_CHOICES)


def adopt_choices(choices: dict[tuple[CronSchedule, str, int], ScheduleChoice]) -> None:
    """Take choices proven elsewhere (a cache written by this same version, a worker)."""
    _CHOICES.update(choices)


def choose_schedule(
    schedule: CronSchedule, tz: str, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> ScheduleChoice:
    key = (schedule, tz, horizon_days)
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _CHOICES[key] = _choose(schedule, tz, horizon_days)
    return choice


def _choose(schedule: CronSchedule, tz: str, horizon_days: int) -> ScheduleChoice:
    translation = translate_cron(schedule)
    cron_proof = None
    if translation.cron is not None:
        cron_proof = verify_cron(schedule, translation.cron, tz, horizon_days)
        if cron_proof.exact:
            return ScheduleChoice(CRON, translation.cron, translation, cron_proof)
    proof = verify_quartz_timetable(schedule, tz, horizon_days)
    return ScheduleChoice(QUARTZ, translation.cron, translation, proof, cron_proof)


def why_not_cron(choice: ScheduleChoice, tz: str) -> str:
    """Why the simplest form (one cron string) was not good enough, in words."""
    if choice.cron is None:
        return "; ".join(choice.translation.reasons) or "no Unix cron equivalent"
    proof = choice.cron_proof
    assert proof is not None
    return (
        f"cron '{choice.cron}' would differ at {len(proof.differences)} instant(s), "
        f"first: {proof.describe(tz)}"
    )


def next_fire_words(schedule: CronSchedule, tz: str) -> str:
    """When the schedule fires next after the proof's start, in words (Sundial's engine)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from migrate.quartz import QuartzRuntimeError

    engine = quartz_engine(schedule)
    try:
        t = engine.next_fire_after(PROOF_START - timedelta(seconds=1), tz)
    except QuartzRuntimeError as exc:
        return f"Quartz finds no next fire time ({exc})"
    if t is None:
        return f"it never fires after {PROOF_START:%Y-%m-%d}"
    return f"its first fire time after {PROOF_START:%Y-%m-%d} is {t.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M %Z}"
