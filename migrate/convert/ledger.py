"""The fate of every Sundial field: exact, approximated, unsupported or manual.

Mappers record what they did with each field they read; ``close`` then reports every field
present in the source that no mapper accounted for, so nothing is lost silently.
"""

from __future__ import annotations

from migrate.ir import Finding


class FieldLedger:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._covered: set[str] = set()

    def record(self, severity: str, field: str, message: str) -> None:
        self.findings.append(Finding(severity, field, message))
        self._covered.add(field)

    def note(self, severity: str, field: str, message: str) -> None:
        """A finding about a whole object (e.g. an executable) that does not account for
        any of its fields: they still need their own record."""
        self.findings.append(Finding(severity, field, message))

    def exact(self, field: str, message: str) -> None:
        self.record("exact", field, message)

    def approximated(self, field: str, message: str) -> None:
        self.record("approximated", field, message)

    def unsupported(self, field: str, message: str) -> None:
        self.record("unsupported", field, message)

    def manual(self, field: str, message: str) -> None:
        self.record("manual", field, message)

    def covers(self, path: str) -> bool:
        """True if the path, or an object that contains it, has a recorded fate."""
        if path in self._covered:
            return True
        for i, ch in enumerate(path):
            if ch in ".[" and path[:i] in self._covered:
                return True
        return False

    def close(self, present_fields, unknown_fields) -> list[Finding]:
        for path in present_fields:
            if not self.covers(path):
                self.unsupported(
                    path, "not mapped by any rule; nothing in the DAG reflects it"
                )
        for path, _value in unknown_fields:
            self.unsupported(
                path,
                "unknown field (in no Sundial API generation); not mapped, check it by hand",
            )
        return self.findings
