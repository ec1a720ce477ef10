"""What the tool prints cannot move the cursor, rewrite the screen or reorder the text."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from migrate.stdio import json_printable, printable

UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb]"
)
texts = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("\x1b\r\x07\x9b\u202e\u2066\u2028\t\n"),
    )
)


@given(texts)
def test_printed_text_holds_no_control_character_but_tab_and_newline(text):
    shown = printable(text)
    assert not UNSAFE.search(shown)
    assert shown.count("\n") == text.count("\n")  # one line stays one line
    if not UNSAFE.search(text):
        assert shown == text  # nothing else changes


@given(
    st.recursive(
        st.none() | texts, lambda kids: st.lists(kids) | st.dictionaries(texts, kids)
    )
)
def test_printed_json_holds_the_same_data(value):
    document = json.dumps(value, ensure_ascii=False, indent=2)
    shown = json_printable(document)
    assert not UNSAFE.search(shown)
    assert json.loads(shown) == value
