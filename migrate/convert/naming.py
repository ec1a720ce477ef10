"""Airflow ids from Sundial names: sanitized, deterministic, collision-free."""

from __future__ import annotations

import re
import unicodedata

MAX_ID = 200  # Airflow allows 250; leave room for group prefixes and suffixes


def sanitize(name: str, *, allow_dot: bool) -> str:
    """ASCII letters, digits, ``_``, ``-`` (and ``.`` for DAG ids); lower case; never empty."""
    folded = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    )
    allowed = r"[^a-z0-9_.-]" if allow_dot else r"[^a-z0-9_-]"
    text = re.sub(allowed, "_", folded.lower())
    text = re.sub(r"_+", "_", text).strip("_.-")
    if not text:
        text = "x"
    return text[:MAX_ID]


def assign_unique(
    names: list[str], make_id, taken: set[str] | None = None
) -> dict[str, str]:
    """Map each original name to a unique id.  Order-independent: originals are sorted first,
    so the same set of names always gets the same ids; clashes get ``_2``, ``_3``, ...
    """
    taken = set() if taken is None else taken
    result: dict[str, str] = {}
    for name in sorted(set(names)):
        base = make_id(name)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        result[name] = candidate
    return result
