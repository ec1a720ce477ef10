"""A fresh virtualenv for "what users install", on top of the project's Airflow.

Installing Airflow and its providers again (~380 MB) would cost a minute per session and
needs an index; this venv is empty but reaches the project venv's site-packages through
a ``.pth`` line, so pip in it sees the installed Airflow as installed.  Then the user's
own step runs for real and offline, from the convert output directory:

    pip install --no-index -r requirements.txt

pip checks every pin against the installed versions and installs the support wheel into
the fresh venv (its own site-packages, which come first on ``sys.path``).  The trade-off:
pins are satisfied because the same packages are installed, not downloaded; an Airflow
image build (see DIR/Dockerfile) would download them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path


class FreshVenv:
    def __init__(self, path: Path):
        self.path = Path(path)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(self.path)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.python = str(self.path / "bin" / "python")
        site = subprocess.run(
            [
                self.python,
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.site_packages = Path(site)
        base = sysconfig.get_paths()["purelib"]  # the project venv's
        (self.site_packages / "_project_venv.pth").write_text(base + "\n")

    def pip(self, *args: str, cwd: Path | None = None, timeout: float = 300):
        """pip (the project venv's pip module) acting on this venv."""
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", self.python, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )

    def install_requirements(self, out_dir: Path) -> None:
        """The README's step, run from the convert output directory, without an index."""
        proc = self.pip("install", "--no-index", "-r", "requirements.txt", cwd=out_dir)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def run(self, *args: str, env: dict[str, str] | None = None, **kw):
        return subprocess.run([self.python, *args], env=env, **kw)
