"""The cutover journal: phases from the last record, a line cut off by a crash."""

from __future__ import annotations

import pytest

from migrate.cutover import journal as j


def test_phases_follow_the_last_record(tmp_path):
    book = j.Journal(tmp_path / "j.jsonl")
    book.write("a", "a", j.PAUSE_SUNDIAL, "start")
    assert j.phases(book.records) == {"a": j.CUTTING_OVER}
    for step in (j.PAUSE_SUNDIAL,):
        book.write("a", "a", step, "done")
    book.write("a", "a", j.CUT_OVER, "done")
    book.write("b", "b", j.PAUSE_SUNDIAL, "start")
    assert j.phases(j.read(book.path)) == {"a": j.LIVE_IN_AIRFLOW, "b": j.CUTTING_OVER}
    book.write("a", "a", j.PAUSE_DAG, "start")
    assert j.phases(book.records)["a"] == j.ROLLING_BACK
    book.write("a", "a", j.ROLLED_BACK, "done")
    assert j.phases(book.records)["a"] == j.BEFORE
    assert j.done_since_last(book.records, "a", j.ROLLED_BACK) == set()
    assert j.done_since_last(book.records, "b", j.ROLLED_BACK) == set()


def test_a_line_cut_off_by_a_crash_is_ignored_any_other_is_refused(tmp_path):
    book = j.Journal(tmp_path / "j.jsonl")
    book.write("a", "a", j.PAUSE_SUNDIAL, "start")
    text = book.path.read_text()
    book.path.write_text(text + '{"at": "2026-12-07T00:00:00', encoding="utf-8")
    assert len(j.read(book.path)) == 1
    book.path.write_text('{"not": "a record"}\n' + text, encoding="utf-8")
    with pytest.raises(
        j.JournalError, match=r"j.jsonl:1: not a cutover journal record"
    ):
        j.read(book.path)


def test_the_default_journal_sits_beside_the_report(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "parity.json").write_text("{}")
    assert j.default_path(tmp_path) == tmp_path / j.JOURNAL
    assert j.default_path(tmp_path / "report" / "parity.json") == tmp_path / j.JOURNAL
