"""``json.dumps(value, indent=2, ensure_ascii=False)`` text, faster.

The standard library writes indented JSON with its pure-Python encoder; this gives the
same text about three times faster for JSON-shaped values (str keys; str, int, float,
bool, None, list, tuple, dict), and hands anything else to the standard library.  Used
for the exported definition files and the AWS specs written next to the DAGs;
tests/test_jsontext.py checks the text against json.dumps.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")


def dumps_indented(value: Any, sort_keys: bool = False) -> str:
    """``json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\\n"``."""
    parts: list[str] = []
    try:
        _indented(value, parts, "\n", sort_keys)
    except _Unusual:
        return (
            json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"
        )
    parts.append("\n")
    return "".join(parts)


class _Unusual(Exception):
    pass


def _indented(value: Any, parts: list[str], newline: str, sort_keys: bool) -> None:
    """Append ``value`` as json.dumps writes it at the depth whose line start is
    ``newline`` ("\\n" plus the indentation)."""
    kind = type(value)
    if kind is str:
        parts.append(encode_basestring(value))
    elif kind is dict or kind is list or kind is tuple:
        if not value:
            parts.append("{}" if kind is dict else "[]")
            return
        inner = newline + "  "
        opening = ("{" if kind is dict else "[") + inner
        separator = "," + inner
        if kind is dict:
            if any(type(key) is not str for key in value):
                raise _Unusual
            for key in sorted(value) if sort_keys else value:
                parts.append(opening)
                parts.append(encode_basestring(key))
                parts.append(": ")
                _indented(value[key], parts, inner, sort_keys)
                opening = separator
            parts.append(newline + "}")
        else:
            for item in value:
                parts.append(opening)
                _indented(item, parts, inner, sort_keys)
                opening = separator
            parts.append(newline + "]")
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float:
        if value != value:
            parts.append("NaN")
        elif value == _INFINITY:
            parts.append("Infinity")
        elif value == -_INFINITY:
            parts.append("-Infinity")
        else:
            parts.append(float.__repr__(value))
    else:
        raise _Unusual
