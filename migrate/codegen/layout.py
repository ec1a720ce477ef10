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
  trailing comma added, and each element laid out again by the same rules;
- a line holding a multi-line string (a ``TextBlock``, always the only argument of a chain
  of one-argument calls, e.g. ``kw=literal(json.loads(r\"\"\"...\"\"\")),``) stays as it is
  when its first and last lines fit and nothing but its own trailing comma separates items
  (Black's ``is_line_short_enough`` for multiline strings); any other line holding one is
  split.

The AST is built with the constructors below (``name``, ``const``, ``call``, ...), which
record each node's one-line text as ``node.flat`` as they go, bottom-up: the text of every
node is made once, without a pass over the tree.  Strings and numbers use Black's own
normalisation functions.  Black remains the oracle: tests check
``black.format_str(output) == output`` on the fixture estate and on hypothesis-generated
DAGs.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from black.strings import normalize_string_quotes, str_width

LINE_LENGTH = 88
INDENT = "    "
_LOAD = ast.Load()
_STORE = ast.Store()


class TextBlock(str):
    """A multi-line string written as a raw triple-quoted string (``r\"\"\"...\"\"\"``): an
    indented JSON document, say.  Its characters must be printable apart from its newlines,
    and it must neither hold ``\"\"\"`` nor end in a backslash (checked when written).
    """


@lru_cache(maxsize=65536)
def string_literal(value: str) -> str:
    return normalize_string_quotes(repr(value))


def block_literal(text: str) -> str:
    if '"""' in text or text.endswith("\\") or not text.replace("\n", "").isprintable():
        raise ValueError("this text cannot be written as a raw triple-quoted string")
    return f'r"""{text}"""'


def constant(value) -> str:
    kind = type(value)
    if kind is str:
        return string_literal(value)
    if kind is TextBlock:
        return block_literal(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            raise ValueError(f"unsupported float {value!r}")
        return text
    if isinstance(value, str):
        return string_literal(str(value))
    return repr(value)


def width(text: str) -> int:
    return len(text) if text.isascii() else str_width(text)


# -- node constructors: real AST nodes, each with its one-line text in ``flat`` -------------


def name(identifier: str) -> ast.Name:
    node = ast.Name(identifier, _LOAD)
    node.flat = identifier
    return node


def const(value) -> ast.Constant:
    node = ast.Constant(value)
    node.flat = constant(value)
    return node


def attribute(value: ast.expr, attr: str) -> ast.Attribute:
    node = ast.Attribute(value, attr, _LOAD)
    node.flat = f"{value.flat}.{attr}"
    return node


def keyword(arg: str, value: ast.expr) -> ast.keyword:
    node = ast.keyword(arg, value)
    node.flat = f"{arg}={value.flat}"
    return node


def call(func: ast.expr, args: list[ast.expr], keywords: list[ast.keyword]) -> ast.Call:
    node = ast.Call(func, args, keywords)
    items = args + keywords if args else keywords
    node.flat = f"{func.flat}({', '.join([i.flat for i in items])})"
    return node


def list_(elts: list[ast.expr]) -> ast.List:
    node = ast.List(elts, _LOAD)
    node.flat = f"[{', '.join([e.flat for e in elts])}]"
    return node


def dict_(keys: list[ast.expr], values: list[ast.expr]) -> ast.Dict:
    node = ast.Dict(keys, values)
    node.flat = (
        "{" + ", ".join([f"{k.flat}: {v.flat}" for k, v in zip(keys, values)]) + "}"
    )
    return node


def rshift(left: ast.expr, right: ast.expr) -> ast.BinOp:
    node = ast.BinOp(left, ast.RShift(), right)
    node.flat = f"{left.flat} >> {right.flat}"
    return node


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(target, _STORE)], value, lineno=0)


# -- layout ----------------------------------------------------------------------------------


def _is_block_chain(node: ast.AST) -> bool:
    """A TextBlock alone at the end of a chain of one-argument calls (and a keyword)."""
    while True:
        kind = type(node)
        if kind is ast.keyword:
            node = node.value
        elif kind is ast.Call and len(node.args) + len(node.keywords) == 1:
            node = (node.args or node.keywords)[0]
        else:
            return kind is ast.Constant and type(node.value) is TextBlock


def _fits(line: str, node: ast.AST) -> bool:
    if "\n" not in line:
        return width(line) <= LINE_LENGTH
    first, last = line[: line.index("\n")], line[line.rindex("\n") + 1 :]
    return (
        width(first) <= LINE_LENGTH
        and width(last) <= LINE_LENGTH
        and _is_block_chain(node)
    )


_SPLITTABLE = (ast.List, ast.Call, ast.Dict)


def lines(node: ast.AST, depth: int, prefix: str = "", suffix: str = "") -> list[str]:
    """``prefix + node + suffix`` at indentation ``depth``: on one line if it fits, otherwise
    split at the node's last bracket pair (the one Black's right-hand split would pick for
    these shapes)."""
    indent = INDENT * depth
    line = f"{indent}{prefix}{node.flat}{suffix}"
    if _fits(line, node):
        return [line]
    kind = type(node)
    if kind is ast.Call:
        head, close, collection = f"{node.func.flat}(", ")", False
        items = node.args + node.keywords if node.args else node.keywords
    elif kind is ast.List:
        head, items, close, collection = "[", node.elts, "]", True
    elif kind is ast.Dict:
        head, close, collection = "{", "}", True
        items = list(zip(node.keys, node.values))
    elif kind is ast.keyword:
        return lines(node.value, depth, f"{prefix}{node.arg}=", suffix)
    elif kind is ast.BinOp:
        if isinstance(node.right, _SPLITTABLE):
            return lines(node.right, depth, f"{prefix}{node.left.flat} >> ", suffix)
        if isinstance(node.left, _SPLITTABLE):
            return lines(node.left, depth, prefix, f" >> {node.right.flat}{suffix}")
        return [line]
    else:
        return [line]  # an atom: Black leaves the long line
    if not items:
        return [line]
    out = [f"{indent}{prefix}{head}"]
    inner = depth + 1
    tail = f"{indent}{close}{suffix}"
    if not (collection and len(items) > 1):
        if kind is ast.Dict:
            flats = [f"{k.flat}: {v.flat}" for k, v in items]
        else:
            flats = [i.flat for i in items]
        body = INDENT * inner + ", ".join(flats)
        if len(items) == 1:
            if _fits(body, items[0] if kind is not ast.Dict else None):
                out.append(body)
                out.append(tail)
                return out
            # nothing to split at: lay the single item out on its own
            out += _item_lines(items[0], inner, "")
            out.append(tail)
            return out
        if "\n" not in body and width(body) <= LINE_LENGTH:
            out.append(body)
            out.append(tail)
            return out
    for item in items:
        out += _item_lines(item, inner, ",")
    out.append(tail)
    return out


def _item_lines(item, depth: int, suffix: str) -> list[str]:
    if type(item) is tuple:
        key, value = item
        return lines(value, depth, f"{key.flat}: ", suffix)
    return lines(item, depth, "", suffix)


def import_lines(module: str, names: list[str]) -> list[str]:
    line = f"from {module} import {', '.join(names)}"
    if str_width(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import ("] + [f"{INDENT}{n}," for n in names] + [")"]


def statement_lines(stmt: ast.stmt, depth: int) -> list[str]:
    kind = type(stmt)
    if kind is ast.Assign:
        (target,) = stmt.targets
        return lines(stmt.value, depth, f"{target.id} = ")
    if kind is ast.Expr:
        return lines(stmt.value, depth)
    if kind is ast.With:
        (item,) = stmt.items
        suffix = (
            f" as {item.optional_vars.id}:" if item.optional_vars is not None else ":"
        )
        out = lines(item.context_expr, depth, "with ", suffix)
        for inner in stmt.body:
            out += statement_lines(inner, depth + 1)
        return out
    if kind is ast.Pass:
        return [INDENT * depth + "pass"]
    raise TypeError(f"layout does not handle {type(stmt).__name__}")
