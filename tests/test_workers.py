"""Convert's worker processes die with the convert that forked them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_convert_leaves_no_worker_behind(tmp_path):
    """SIGKILL the convert while its two workers are busy: nothing of the parent runs,
    and yet no worker outlives it by more than a moment (they used to block for minutes
    writing to the dead parent)."""
    from fixtures.synthetic import generate, write

    source = tmp_path / "estate"
    write(source, generate(2000, seed=11))
    convert = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "migrate.cli",
            "convert",
            str(source),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "2",
            "-q",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while len(workers) < 2 and convert.poll() is None:
            assert time.monotonic() < deadline, "the convert never started its workers"
            workers = _children(convert.pid)
            time.sleep(0.05)
        assert convert.poll() is None, "the convert finished before it could be killed"
        time.sleep(1.0)  # into the work
        convert.send_signal(signal.SIGKILL)
        convert.wait(30)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "workers outlived the convert"
    finally:
        for w in _children(convert.pid) | workers:
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
