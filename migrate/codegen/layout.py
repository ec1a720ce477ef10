"""Lay out generated Python in Black's style directly, without running Black.

Black costs about 0.3 ms per output line, too slow for estates of thousands of DAGs.  The
generated modules use a small subset of Python (imports, ``with`` blocks, assignments of
calls, ``a >> b`` statements; names, constants, attributes, calls, lists, dicts), and for
that subset Black's layout follows a few rules this module reproduces:

- a line that fits in 88 columns (Black's ``str_width``) stays as it is;
- otherwise it is split at its last bracket pair (Black's *right-hand split*): the head up
  to the opening bracket, the body one level deeper, the closing bracket and the rest;
- a body inside a list or dict literal that contains commas is always exploded, one
  element per line with a trailing comma; a call's arguments stay on one line when they
  fit (Black's ``should_split_line``);
- a body that still does not fit is split at its commas (Black's *delimiter split*), a
  trailing comma added, and each element laid out again by the same rules.

Strings and numbers use Black's own normalisation functions.  Black remains the oracle:
tests check ``black.format_str(output) == output`` on the fixture estate and on
hypothesis-generated DAGs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from black.strings import normalize_string_quotes, str_width

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Tok:
    text: str
    space: bool = False  # a space before this token (dropped at the start of a line)
    kind: str = "atom"  # atom | open | close | comma | op
    collection: bool = False  # for open/close: a list/dict literal (not a call)


@lru_cache(maxsize=65536)
def string_literal(value: str) -> str:
    return normalize_string_quotes(repr(value))


def constant(value) -> str:
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            raise ValueError(f"unsupported float {value!r}")
        return text
    return repr(value)


def tokens(node: ast.expr, space: bool = False) -> list[Tok]:
    """The token stream of an expression from the generated subset."""
    if isinstance(node, ast.Name):
        return [Tok(node.id, space)]
    if isinstance(node, ast.Constant):
        return [Tok(constant(node.value), space)]
    if isinstance(node, ast.Attribute):
        return [*tokens(node.value, space), Tok("." + node.attr, False)]
    if isinstance(node, ast.Call):
        items = [tokens(a) for a in node.args]
        items += [
            [Tok(k.arg), Tok("=", kind="op"), *tokens(k.value)] for k in node.keywords
        ]
        return [
            *tokens(node.func, space),
            *_bracketed("(", ")", items, collection=False),
        ]
    if isinstance(node, ast.List):
        return _bracketed(
            "[", "]", [tokens(e) for e in node.elts], collection=True, space=space
        )
    if isinstance(node, ast.Dict):
        items = [
            [*tokens(k), Tok(":", kind="op"), *tokens(v, True)]
            for k, v in zip(node.keys, node.values)
        ]
        return _bracketed("{", "}", items, collection=True, space=space)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        return [
            *tokens(node.left, space),
            Tok(">>", True, "op"),
            *tokens(node.right, True),
        ]
    raise TypeError(f"layout does not handle {type(node).__name__}")


def _bracketed(
    open_: str,
    close: str,
    items: list[list[Tok]],
    collection: bool,
    space: bool = False,
) -> list[Tok]:
    out = [Tok(open_, space, "open", collection)]
    for i, item in enumerate(items):
        if i:
            out.append(Tok(",", kind="comma"))
            item = [
                Tok(item[0].text, True, item[0].kind, item[0].collection),
                *item[1:],
            ]
        out.extend(item)
    out.append(Tok(close, kind="close", collection=collection))
    return out


def render(toks: list[Tok], depth: int) -> str:
    parts = [INDENT * depth]
    for i, t in enumerate(toks):
        parts.append((" " if t.space and i else "") + t.text)
    return "".join(parts)


def _matching(toks: list[Tok]) -> dict[int, int]:
    stack, pairs = [], {}
    for i, t in enumerate(toks):
        if t.kind == "open":
            stack.append(i)
        elif t.kind == "close":
            pairs[i] = stack.pop()
    return pairs


def _top_level_commas(toks: list[Tok]) -> list[int]:
    depth, found = 0, []
    for i, t in enumerate(toks):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif t.kind == "comma" and depth == 0:
            found.append(i)
    return found


def lay_out(
    toks: list[Tok], depth: int, inside: bool = False, force: bool = False
) -> list[str]:
    line = render(toks, depth)
    if not force and str_width(line) <= LINE_LENGTH:
        return [line]
    if inside:
        commas = _top_level_commas(toks)
        if commas and not (len(commas) == 1 and commas[0] == len(toks) - 1):
            parts, start = [], 0
            for c in commas:
                parts.append(toks[start : c + 1])
                start = c + 1
            if start < len(toks):
                parts.append(toks[start:] + [Tok(",", kind="comma")])
            out = []
            for part in parts:
                first = part[0]
                part = [Tok(first.text, False, first.kind, first.collection), *part[1:]]
                out += lay_out(part, depth, inside=True)
            return out
    pairs = _matching(toks)
    close = next(
        (i for i in range(len(toks) - 1, -1, -1) if toks[i].kind == "close"), None
    )
    if close is None or pairs[close] == close - 1:
        return [line]  # nothing to split: Black leaves the long line
    opening = pairs[close]
    head, body, tail = toks[: opening + 1], toks[opening + 1 : close], toks[close:]
    body = [Tok(body[0].text, False, body[0].kind, body[0].collection), *body[1:]]
    tail = [Tok(tail[0].text, False, tail[0].kind, tail[0].collection), *tail[1:]]
    body_commas = [c for c in _top_level_commas(body) if c != len(body) - 1]
    explode = toks[opening].collection and bool(body_commas)
    return (
        lay_out(head, depth, inside)
        + lay_out(body, depth + 1, inside=True, force=explode)
        + lay_out(tail, depth, inside)
    )


def import_lines(module: str, names: list[str]) -> list[str]:
    line = f"from {module} import {', '.join(names)}"
    if str_width(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import ("] + [f"{INDENT}{n}," for n in names] + [")"]


def statement_lines(stmt: ast.stmt, depth: int) -> list[str]:
    if isinstance(stmt, ast.Assign):
        (target,) = stmt.targets
        toks = [Tok(target.id), Tok("=", True, "op"), *tokens(stmt.value, True)]
        return lay_out(toks, depth)
    if isinstance(stmt, ast.Expr):
        return lay_out(tokens(stmt.value), depth)
    if isinstance(stmt, ast.With):
        (item,) = stmt.items
        toks = [Tok("with"), *tokens(item.context_expr, True)]
        if item.optional_vars is not None:
            toks += [Tok("as", True), Tok(item.optional_vars.id, True)]
        toks.append(Tok(":", kind="op"))
        lines = lay_out(toks, depth)
        for inner in stmt.body:
            lines += statement_lines(inner, depth + 1)
        return lines
    if isinstance(stmt, ast.Pass):
        return [INDENT * depth + "pass"]
    raise TypeError(f"layout does not handle {type(stmt).__name__}")
