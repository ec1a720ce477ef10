"""SundialShellOperator runs scripts exactly as Sundial's shell executor did (real bash)."""

from __future__ import annotations

import pytest

from migrate.support import SUPPORT_PACKAGE
from tests.conftest import use_plugins

use_plugins(SUPPORT_PACKAGE.parent)

from sundial_compat.shell import SundialShellOperator  # noqa: E402


class _TI:
    try_number = 2


def run(script, **kwargs):
    op = SundialShellOperator(task_id="t", script=script, **kwargs)
    return op.execute({"ti": _TI()})


def test_script_runs_literally_from_a_file(tmp_path):
    out = tmp_path / "out.txt"
    script = (
        'arr=(a b c)\necho "${#arr[@]} {{ ds }} {% raw %} {# x #}" > "$OUT"\n'
        "cat <<'EOF' >> \"$OUT\"\n$HOME `id`\nEOF\n"
        'echo "$0" | grep -q "sundial.sh$" && echo file >> "$OUT"\n'
        'echo $SUNDIAL_TASK_PREVIOUS_ATTEMPTS >> "$OUT"\n'
        "true run.sh"
    )
    run(script, env={"OUT": str(out)})
    assert out.read_text() == "3 {{ ds }} {% raw %} {# x #}\n$HOME `id`\nfile\n1\n"


def test_env_values_reach_the_script_byte_for_byte(tmp_path):
    out = tmp_path / "env.txt"
    value = "quote ' dq \" back \\ nl\nend {{ var }} é"
    run('printf %s "$ODD" > "$OUT"', env={"OUT": str(out), "ODD": value})
    assert out.read_text() == value


def test_exit_code_decides_without_explicit_success():
    assert run("echo '**status=failure'; exit 0") is None
    with pytest.raises(Exception, match="exited with code 3"):
        run("exit 3")
    with pytest.raises(
        Exception, match="exited with code 99"
    ):  # not a skip, unlike BashOperator
        run("exit 99")


def test_explicit_success_protocol():
    run("echo '**status=success'", require_explicit_success=True)
    with pytest.raises(Exception, match="printed no"):
        run("echo done", require_explicit_success=True)
    with pytest.raises(Exception, match="reported"):
        run(
            "echo '**status=success'; echo '**status=failure'",
            require_explicit_success=True,
        )
    with pytest.raises(Exception, match="exited with code 1"):
        run("echo '**status=success'; exit 1", require_explicit_success=True)
    with pytest.raises(
        Exception, match="printed no"
    ):  # stderr is not read, as in Sundial
        run("echo '**status=success' >&2", require_explicit_success=True)


def test_metadata_lines_are_returned():
    assert run("echo '**metadata:rows=42'; echo '**metadata:k=a=b'") == {
        "rows": "42",
        "k": "a=b",
    }
