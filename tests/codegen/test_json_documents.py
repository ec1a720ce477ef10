"""Large AWS request documents are written as JSON text in a raw triple-quoted string
(``json.loads(r\"\"\"...\"\"\")``): any value comes back exactly, whatever its strings hold,
and the text is laid out as Black leaves it."""

from __future__ import annotations

import ast
import json

import black
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.codegen.layout import TextBlock, block_literal, const, statement_lines
from migrate.codegen.python import json_block, render_dag
from migrate.ir import DagModel, JsonDocument, Literal, Ref, TaskNode
from tests.codegen.test_injection import NASTY

text = st.one_of(
    st.sampled_from(NASTY + ['"""', '\\"""', '"', "\\", "\u2028", "\x7f", "\xa0"]),
    st.text(st.characters(blacklist_categories=()), max_size=20),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=documents, depth=st.integers(0, 4))
def test_any_document_comes_back_exactly(value, depth):
    block = json_block(value, depth)
    source = block_literal(block)
    assert ast.literal_eval(source) == block
    assert json.loads(block) == value
    assert block.endswith("\n" + "    " * depth)
    for line in block.split("\n")[1:-1]:
        assert line.startswith("    " * (depth + 1))


def _model(value) -> DagModel:
    model = DagModel("p", "p", "dags/p.py", ("2019-07",), "doc")
    model.set("dag_id", "p", (), "test")
    node = TaskNode("a", Ref("m", "Op"))
    node.set("short", 1, (), "test")
    node.set("document", JsonDocument(value), (), "test")
    node.set("literal_document", Literal(JsonDocument(value)), (), "test")
    model.tasks.append(node)
    return model


@settings(max_examples=100, deadline=None)
@given(value=documents)
def test_documents_in_a_dag_file_are_black_clean_and_exact(value):
    source = render_dag(_model(value))
    source.encode("utf-8")  # no lone surrogate reaches the file
    assert black.format_str(source, mode=black.Mode()) == source
    tree = ast.parse(source)
    call = tree.body[-1].body[0].value
    arguments = {k.arg: k.value for k in call.keywords}
    (loads,) = [arguments["document"]]
    assert json.loads(ast.literal_eval(loads.args[0])) == value
    inner = arguments["literal_document"].args[0]
    assert json.loads(ast.literal_eval(inner.args[0])) == value
    assert "import json" in source.splitlines()


def test_a_document_is_written_indented_under_its_argument():
    source = render_dag(_model({"Name": "x", "Args": ["a", "b"]}))
    assert (
        '        document=json.loads(r"""\n'
        '            {"Name": "x", "Args": ["a", "b"]}\n'
        '        """),\n'
    ) in source


def test_text_blocks_that_cannot_be_raw_strings_are_refused():
    for bad in ('a"""b', "a\\", "a\x00b", "a\rb"):
        try:
            block_literal(TextBlock(bad))
        except ValueError:
            continue
        raise AssertionError(bad)


def test_a_text_block_line_stays_whole_only_in_a_chain_of_single_calls():
    from migrate.codegen.layout import attribute, call, keyword, name

    block = const(TextBlock("\n    {}\n"))
    loads = call(attribute(name("json"), "loads"), [block], [])
    (line,) = statement_lines(ast.Expr(keyword("kw", loads)), 1)
    assert line.startswith('    kw=json.loads(r"""')
    statement = ast.Expr(
        call(name("f"), [], [keyword("a", const(1)), keyword("b", loads)])
    )
    assert statement_lines(statement, 0)[:2] == ["f(", "    a=1,"]
