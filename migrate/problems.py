"""Problems with the input: one clear line each, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """An input the tool cannot use.  ``str()`` is the one line a user sees."""

    file: str
    process: str | None
    field: str | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.process is not None:
            parts.append(f"process {self.process!r}")
        if self.field:
            parts.append(self.field)
        line = ": ".join(parts) + f": {self.message}"
        if self.hint:
            line += f" ({self.hint})"
        return line.replace("\n", "\\n")
