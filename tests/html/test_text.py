"""text(): its fast paths escape exactly what the one-pass table does, for any string."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from migrate.html.text import _PICTURES, _TEXT, text, visible


@given(st.text())
def test_text_is_html_escape_with_control_pictures(value):
    assert text(value) == value.translate(_TEXT)
    # and that is html.escape(quote=True) of what a reader sees
    assert text(value) == html.escape(value.translate(_PICTURES), quote=True)
    assert html.unescape(text(value)) == visible(value)


def test_plain_strings_come_back_as_they_are():
    value = "task_definitions[load.eu].executable.batch_image_command.image"
    assert text(value) is value
