"""What Sundial would have done with a run: its task rules (dependencies, attempts, backoff)
and notification rules (email per notify_when, PagerDuty after consecutive failures).

Deliberately independent of the mapping code: it reads the fixture JSON (API wire shape)
itself and applies Sundial's rules to the behaviour each fixture script is written to have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


def load_processes(path: Path) -> dict[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        p["process_definition_name"]: p
        for p in (data if isinstance(data, list) else [data])
    }


@dataclass(frozen=True)
class Expected:
    ran: bool
    succeeded: bool
    attempts: int


def simulate(
    process: dict, fails_attempts: dict[str, int | None]
) -> tuple[dict[str, Expected], str]:
    """Each task's fate and the run's outcome ('succeeded' / 'failed').

    ``fails_attempts[name]``: how many attempts of the task's script fail before one
    succeeds (None: every attempt fails; absent: the first attempt succeeds).

    - required dependency: the upstream must have succeeded; if it failed for good (or never
      ran) this task never runs;
    - optional dependency: the upstream must have finished an attempt (so it must have run);
    - a task gets up to ``max_attempts`` attempts;
    - the run fails if any task's last attempt failed.
    """
    tasks = {t["task_definition_name"]: t for t in process["task_definitions"]}
    fate: dict[str, Expected] = {}

    def resolve(name: str) -> Expected:
        if name in fate:
            return fate[name]
        task = tasks[name]
        runs = True
        for dep in task["dependencies"]:
            up = resolve(dep["task_definition_name"])
            if dep.get("success_required", True):
                runs = runs and up.succeeded
            else:
                runs = runs and up.ran
        if not runs:
            result = Expected(False, False, 0)
        else:
            max_attempts = task["max_attempts"]
            failing = fails_attempts.get(name, 0)
            if failing is None or failing >= max_attempts:
                result = Expected(True, False, max_attempts)
            else:
                result = Expected(True, True, failing + 1)
        fate[name] = result
        return result

    for name in tasks:
        resolve(name)
    outcome = (
        "failed"
        if any(e.ran and not e.succeeded for e in fate.values())
        else "succeeded"
    )
    return fate, outcome


def backoff(task: dict, attempt: int) -> float:
    """Seconds Sundial waited after attempt ``attempt`` (1-based) before the next one."""
    return task["backoff_base_seconds"] * task.get("backoff_exponent", 1.0) ** attempt


NOTIFY_WHEN = (
    "always",
    "on_failure",
    "on_state_change",
    "on_state_change_and_failures",
    "never",
)


def email_recipients(process: dict, outcome: str, previous: str | None) -> set[str]:
    """Who hears about a run that ended with ``outcome``: compared with the previous run,
    success after success only ``always``; failure after failure ``always`` and
    ``on_state_change_and_failures``; otherwise (a change, or the first run) everyone
    but ``never``."""
    if previous == outcome == "succeeded":
        allowed = {"always"}
    elif previous == outcome == "failed":
        allowed = {"always", "on_state_change_and_failures"}
    else:
        allowed = set(NOTIFY_WHEN) - {"never"}
    return {
        n["email"]["email"]
        for n in process.get("notifications", [])
        if "email" in n and n["email"]["notify_when"] in allowed
    }


def pages(process: dict, outcomes: list[str]) -> list[str]:
    """Service keys paged after the last run of ``outcomes`` (oldest first)."""
    keys = []
    for n in process.get("notifications", []):
        if "pagerduty" not in n:
            continue
        k = n["pagerduty"]["num_consecutive_failures"]
        if len(outcomes) >= k and all(o == "failed" for o in outcomes[-k:]):
            keys.append(n["pagerduty"]["service_key"])
    return keys
