"""Re-take the README's screenshot of a process page (docs/report-process-page.png) from
the fixture estate, in headless Chromium, the top 1,200 pixels of the page.

    .venv/bin/python docs/screenshot.py [PROCESS]     (default: regional-sales-loads)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from migrate.pipeline import convert  # noqa: E402
from tests import browser  # noqa: E402
from tests.conftest import ESTATE  # noqa: E402


def main() -> None:
    process = sys.argv[1] if len(sys.argv) > 1 else "regional-sales-loads"
    why = browser.missing()
    if why is not None:
        raise SystemExit(f"error: {why}")
    out = Path(tempfile.mkdtemp(prefix="screenshot-"))
    convert([ESTATE], out)
    page_file = out / "report" / "processes" / f"{process}.html"
    target = ROOT / "docs" / "report-process-page.png"
    with browser.chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1360, "height": 1200})
        page.goto(page_file.as_uri(), wait_until="load")
        page.screenshot(path=str(target))
    print(target)


if __name__ == "__main__":
    main()
