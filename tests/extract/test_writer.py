"""The export writer's encoders give exactly what ``json.dumps`` gives."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.extract.writer import dumps_definition

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_definitions_are_written_as_json_dumps_writes_them(value):
    expected = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    assert dumps_definition(value) == expected


def test_what_json_decoding_never_gives_still_matches():
    for value in [
        {1: "int key", None: 2},
        {"t": (1, 2)},
        [{"nested": {"deeper": [{}]}}],
        {"s": "\ud800 lone surrogate", "c": "\x00\x1f\u2028"},
        -0.0,
    ]:
        assert (
            dumps_definition(value)
            == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        )
