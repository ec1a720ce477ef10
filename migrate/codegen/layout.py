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
from functools import lru_cache

from black.strings import normalize_string_quotes, str_width

LINE_LENGTH = 88
INDENT = "    "


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


def width(text: str) -> int:
    return len(text) if text.isascii() else str_width(text)


class _Printer:
    """Black's right-hand split and delimiter split, applied per AST node.

    ``flat(node)`` is the node on one line (memoised, so each node is rendered once);
    ``lines(node, col, prefix, suffix)`` lays out ``prefix + node + suffix`` starting at
    indentation ``col``: on one line if it fits, otherwise split at the node's last bracket
    pair (the one Black's right-hand split would pick for these shapes)."""

    def __init__(self) -> None:
        self._flat: dict[int, str] = {}

    def flat(self, node: ast.AST) -> str:
        key = id(node)
        text = self._flat.get(key)
        if text is None:
            text = self._flat[key] = self._render(node)
        return text

    def _render(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Constant):
            return constant(node.value)
        if isinstance(node, ast.Attribute):
            return f"{self.flat(node.value)}.{node.attr}"
        if isinstance(node, ast.keyword):
            return f"{node.arg}={self.flat(node.value)}"
        if isinstance(node, ast.Call):
            return f"{self.flat(node.func)}({', '.join(self.flat(i) for i in _items(node))})"
        if isinstance(node, ast.List):
            return f"[{', '.join(self.flat(e) for e in node.elts)}]"
        if isinstance(node, ast.Dict):
            return (
                "{"
                + ", ".join(
                    f"{self.flat(k)}: {self.flat(v)}"
                    for k, v in zip(node.keys, node.values)
                )
                + "}"
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            return f"{self.flat(node.left)} >> {self.flat(node.right)}"
        raise TypeError(f"layout does not handle {type(node).__name__}")

    def lines(
        self, node: ast.AST, depth: int, prefix: str = "", suffix: str = ""
    ) -> list[str]:
        indent = INDENT * depth
        line = f"{indent}{prefix}{self.flat(node)}{suffix}"
        if width(line) <= LINE_LENGTH:
            return [line]
        if isinstance(node, ast.keyword):
            return self.lines(node.value, depth, f"{prefix}{node.arg}=", suffix)
        if isinstance(node, ast.BinOp):
            if isinstance(node.right, (ast.List, ast.Call, ast.Dict)):
                return self.lines(
                    node.right, depth, f"{prefix}{self.flat(node.left)} >> ", suffix
                )
            if isinstance(node.left, (ast.List, ast.Call, ast.Dict)):
                return self.lines(
                    node.left, depth, prefix, f" >> {self.flat(node.right)}{suffix}"
                )
            return [line]
        if isinstance(node, ast.Call):
            head, items, close, collection = (
                f"{self.flat(node.func)}(",
                _items(node),
                ")",
                False,
            )
        elif isinstance(node, ast.List):
            head, items, close, collection = "[", node.elts, "]", True
        elif isinstance(node, ast.Dict):
            head, items, close, collection = (
                "{",
                list(zip(node.keys, node.values)),
                "}",
                True,
            )
        else:
            return [line]  # an atom: Black leaves the long line
        if not items:
            return [line]
        out = [f"{indent}{prefix}{head}"]
        inner = depth + 1
        explode = collection and len(items) > 1
        if not explode:
            body = f"{INDENT * inner}{', '.join(self._item_flat(i) for i in items)}"
            if width(body) <= LINE_LENGTH:
                return out + [body, f"{indent}{close}{suffix}"]
            if (
                len(items) == 1
            ):  # nothing to split at: lay the single item out on its own
                return (
                    out
                    + self._item_lines(items[0], inner, "")
                    + [f"{indent}{close}{suffix}"]
                )
        for item in items:
            out += self._item_lines(item, inner, ",")
        return out + [f"{indent}{close}{suffix}"]

    def _item_flat(self, item) -> str:
        if isinstance(item, tuple):
            return f"{self.flat(item[0])}: {self.flat(item[1])}"
        return self.flat(item)

    def _item_lines(self, item, depth: int, suffix: str) -> list[str]:
        if isinstance(item, tuple):
            return self.lines(item[1], depth, f"{self.flat(item[0])}: ", suffix)
        return self.lines(item, depth, "", suffix)


def _items(call: ast.Call) -> list:
    return [*call.args, *call.keywords]


def import_lines(module: str, names: list[str]) -> list[str]:
    line = f"from {module} import {', '.join(names)}"
    if str_width(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import ("] + [f"{INDENT}{n}," for n in names] + [")"]


def statement_lines(
    stmt: ast.stmt, depth: int, printer: _Printer | None = None
) -> list[str]:
    printer = printer or _Printer()
    if isinstance(stmt, ast.Assign):
        (target,) = stmt.targets
        return printer.lines(stmt.value, depth, f"{target.id} = ")
    if isinstance(stmt, ast.Expr):
        return printer.lines(stmt.value, depth)
    if isinstance(stmt, ast.With):
        (item,) = stmt.items
        suffix = (
            f" as {item.optional_vars.id}:" if item.optional_vars is not None else ":"
        )
        lines = printer.lines(item.context_expr, depth, "with ", suffix)
        for inner in stmt.body:
            lines += statement_lines(inner, depth + 1, printer)
        return lines
    if isinstance(stmt, ast.Pass):
        return [INDENT * depth + "pass"]
    raise TypeError(f"layout does not handle {type(stmt).__name__}")
