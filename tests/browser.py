"""Headless Chromium for the report tests and the bench: Debian's /usr/bin/chromium, driven
by the PyPI ``playwright`` package (its wheel brings the driver; no browser is ever
downloaded).  `./dev` installs both; elsewhere the tests that need them are skipped with
the reason, except in CI, where a missing browser is a failure."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("SUNDIAL_MIGRATE_CHROMIUM", "/usr/bin/chromium")
# Known to work as root on a machine without a network: no sandbox (root), no GPU, and no
# background traffic to Google's hosts.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def chromium():
    """A fresh headless Chromium (its own profile directory), closed at the end."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="sundial-migrate-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1400, "height": 900},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def watch(page) -> list[str]:
    """Everything that went wrong on a page: console errors and warnings, uncaught
    exceptions, dialogs (alert() from an injected script), requests that left the
    report's folder."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type in ("error", "warning")
        and problems.append(f"console {m.type}: {m.text}"),
    )
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))

    def dialog(d):
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.on(
        "request",
        lambda r: r.url.startswith("file://")
        or problems.append(f"request off the disk: {r.url}"),
    )
    return problems
