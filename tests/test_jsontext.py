"""migrate/jsontext.py writes exactly what ``json.dumps(indent=2)`` writes (exported
definition files; AWS specs next to the DAGs, keys sorted)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.jsontext import dumps_indented

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(blacklist_categories=())),
    lambda children: st.lists(children, max_size=4)
    | st.lists(children, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(value=values, sort_keys=st.booleans())
def test_same_text_as_json_dumps(value, sort_keys):
    expected = json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)
    assert dumps_indented(value, sort_keys) == expected + "\n"


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key", None: 2},
        {"t": (1, 2)},
        [{"nested": {"deeper": [{}]}}],
        {"s": "\ud800 lone surrogate", "c": "\x00\x1f\u2028"},
        -0.0,
        {"b": 10**400},
    ],
)
def test_what_json_decoding_never_gives_still_matches(value):
    assert (
        dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    )
