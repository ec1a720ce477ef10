"""The verification for people (a table) and for machines (JSON)."""

from __future__ import annotations

import json

from migrate.verify.core import VerifyResult


def to_json(result: VerifyResult) -> str:
    return json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n"


def _cell(text, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


NOT_YET = "not cut over yet"
RUNS_NOT_CHECKED = "runs not checked"


def to_table(result: VerifyResult) -> str:
    rows = [("process", "DAG", "status", "paused", "Sundial next", "Airflow next")]
    lines_out: list[str] = []
    for e in result.entries:
        rows.append(
            (
                e.process if e.process is not None else "-",
                e.dag_id or "-",
                e.status,
                "-" if e.paused is None else ("yes" if e.paused else "no"),
                e.sundial_next or "",
                e.airflow_next or "",
            )
        )
        for kind, message in e.issues:
            lines_out.append(
                f"- process {e.process!r}, DAG {e.dag_id!r}: {kind}: {message}"
            )
    widths = [
        min(max(len(str(r[i])) for r in rows), cap)
        for i, cap in enumerate((40, 40, 18, 6, 25, 32))
    ]
    table = []
    for n, row in enumerate(rows):
        table.append(
            "  ".join(_cell(v, w).ljust(w) for v, w in zip(row, widths)).rstrip()
        )
        if n == 0:
            table.append("  ".join("-" * w for w in widths))
    head = (
        f"Airflow {result.airflow_version or '?'} at {result.airflow_url}, checked "
        f"{result.checked_at.isoformat(timespec='seconds')}; times in {result.timezone}"
    )
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts().items())
    out = [head, "", *table, "", counts]
    # notes that most processes of an estate share: one line each, however large it is
    grouped = {
        NOT_YET: "processes not cut over yet (Sundial runs them, their DAGs wait "
        "paused; to go live: migrate cutover)",
        RUNS_NOT_CHECKED: "processes whose runs were not checked (not cut over; "
        "--since checks them anyway)",
    }
    shared = {
        prefix: [
            e.process
            for e in result.entries
            if any(n.startswith(prefix) for n in e.notes)
        ]
        for prefix in grouped
    }
    notes = [
        f"- {e.process}: {note}"
        for e in result.entries
        for note in e.notes
        if not note.startswith(tuple(grouped))
    ]
    for prefix in reversed(list(grouped)):
        names = shared[prefix]
        if names:
            shown = ", ".join(names[:8]) + (
                f" and {len(names) - 8} more" if len(names) > 8 else ""
            )
            notes.insert(0, f"- {len(names)} {grouped[prefix]}: {shown}")
    if notes:
        out += ["", "Notes:", *notes]
    if result.other_dags:
        out += ["", f"DAGs the report does not know ({len(result.other_dags)}):"]
        out += [
            f"- {d['dag_id']} ({d.get('bundle_name')}: {d.get('file')})"
            for d in result.other_dags
        ]
    if result.other_import_errors:
        out += ["", "Import errors in files the report does not know:"]
        out += [
            f"- {e.get('bundle_name')}:{e.get('filename')}: {e.get('error')}"
            for e in result.other_import_errors
        ]
    if result.target_issue:
        lines_out.insert(0, f"- Airflow version: {result.target_issue}")
    if lines_out:
        out += ["", "Differences:", *lines_out]
    out.append("ALL GOOD" if result.ok else "DIFFERENCES FOUND")
    return "\n".join(out) + "\n"
