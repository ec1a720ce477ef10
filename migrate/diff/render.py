"""The diff for people (a table) and for machines (JSON)."""

from __future__ import annotations

import json

from migrate.diff.core import DiffResult


def to_json(result: DiffResult) -> str:
    return json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n"


def _cell(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_table(result: DiffResult, pairs_shown: int = 3) -> str:
    rows = [("process", "DAG", "status", "Sundial", "Airflow")]
    details: list[str] = []
    for e in result.entries:
        first = e.issues[0] if e.issues else None
        pair = first.pairs[0] if first and first.pairs else (None, None)
        rows.append(
            (
                e.process if e.process is not None else "-",
                e.dag_id or "-",
                e.status,
                pair[0] or ("" if first and first.pairs else ""),
                pair[1] or ("no run" if first and first.pairs and pair[0] else ""),
            )
        )
        for issue in e.issues:
            name = e.process if e.process is not None else e.dag_id
            details.append(f"- {name}: {issue.kind}: {issue.message}")
            for s, a in issue.pairs[:pairs_shown]:
                details.append(
                    f"    Sundial {s or 'no run':<28} Airflow {a or 'no run'}"
                )
            if len(issue.pairs) > pairs_shown or issue.count > len(
                issue.pairs[:pairs_shown]
            ):
                more = max(issue.count, len(issue.pairs)) - min(
                    pairs_shown, len(issue.pairs)
                )
                if more > 0:
                    details.append(f"    (+{more} more)")
        if e.history is not None and "on_time" in e.history:
            h = e.history
            details.append(
                f"- {e.process}: history: {h['runs']} runs, {h['on_time']} on time, "
                f"{len(h['late'])} late, {len(h['manual'])} manual, "
                f"{h['skipped_fires']} fire(s) Sundial skipped"
            )
    widths = [
        min(max(len(str(r[i])) for r in rows), cap)
        for i, cap in enumerate((40, 40, 26, 28, 28))
    ]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(_cell(v, w).ljust(w) for v, w in zip(row, widths)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts().items())
    head = (
        f"Sundial vs Airflow, {result.horizon_days} days from "
        f"{result.start.isoformat(timespec='minutes')}, times in {result.timezone}; "
        f"{result.dags_loaded} DAGs loaded; fire times computed once per distinct schedule "
        f"({result.distinct_sundial_schedules} Sundial, {result.distinct_airflow_timetables} "
        "Airflow)"
    )
    if result.airflow_target:
        head += (
            f"; DAGs written for Airflow {result.airflow_target}, timetables stepped "
            f"with Airflow {result.airflow_stepped or '?'}"
        )
    out = [head, "", *lines, "", counts]
    if result.history_window:
        out.append(
            f"history compared from {result.history_window[0]} to {result.history_window[1]}"
        )
    if details:
        out += ["", "Differences:" if not result.parity else "Details:", *details]
    out.append("PARITY" if result.parity else "DIFFERENCES FOUND")
    return "\n".join(out) + "\n"
