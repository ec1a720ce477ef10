"""Every string from Sundial enters a page through here, as text.

``text()`` escapes ``& < > " '`` (so a value is inert in element content and in quoted
attribute values alike) and shows control characters as their Unicode pictures (U+2400
block: a NUL, an escape or a carriage return in a name is visible, not swallowed or
normalised by the HTML parser).  Nothing a page shows is ever put together as markup from
Sundial's strings any other way.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, and DEL, to their control pictures (␀ ␁ ... ␡);
# the invisible bidirectional controls (an RLO turns "rtl\u202eevil" into "rtllive" and
# pulls what follows into the name) to their code points, shown: ⟦U+202E⟧
_PICTURES: dict[int, int | str] = {
    c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)
}
_PICTURES[0x7F] = 0x2421
for _c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
    _PICTURES[_c] = f"⟦U+{_c:04X}⟧"
# and, in one pass, what html.escape(quote=True) replaces
_TEXT = {
    **{c: p if isinstance(p, str) else chr(p) for c, p in _PICTURES.items()},
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#x27;",
}


_TEXT_PICTURES = {c: p if isinstance(p, str) else chr(p) for c, p in _PICTURES.items()}

# any character text() changes (most strings have none: they are returned as they are)
_SPECIAL = re.compile("[" + re.escape("".join(map(chr, _TEXT))) + "]")
_CONTROL = re.compile("[" + re.escape("".join(map(chr, _PICTURES))) + "]")


def visible(value: object) -> str:
    """The string a reader sees: control characters as pictures."""
    value = str(value)
    return value.translate(_TEXT_PICTURES) if _CONTROL.search(value) else value


def text(value: object) -> str:
    """Escaped for element content or a quoted attribute value (html.escape's five
    characters), control characters shown as pictures."""
    value = str(value)
    if not _SPECIAL.search(value):
        return value
    if _CONTROL.search(value):
        return value.translate(_TEXT)
    # html.escape's way, faster than translate for these five alone
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def name(value: object) -> str:
    """A name (process, task, DAG id) in running text: ``text()`` isolated in ``<bdi>``,
    so a right-to-left name never reorders what stands beside it (a badge, a comma)."""
    return f"<bdi>{text(value)}</bdi>"


def shorten(value: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return value if len(value) <= limit else value[: max(1, limit - 1)] + "…"


def encode_page(markup: str) -> bytes:
    # a lone surrogate (from JSON input) stays visible as an escape, never crashes
    return markup.encode("utf-8", errors="backslashreplace")
