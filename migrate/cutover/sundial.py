"""The Sundial REST calls a cutover makes (``../shared/SUNDIAL.md``): pause and resume a
process definition, read its runs in progress and its last run, ask for a kill.

Every answer is read within the timeout and a size cap; redirects are not followed (the
requests carry the token); any failure is one line (``SundialUnreachable``, exit 2).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import requests

from migrate.extract.http import BoundExceeded, header_safe, read_bounded, redact_url
from migrate.verify.expect import parse_moment

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
RETRIES = 3
UTC = timezone.utc


class SundialUnreachable(Exception):
    """Cannot reach Sundial or it answered what a cutover cannot use (one line)."""


class SundialClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0):
        self.api = url.rstrip("/") + "/api"
        self.shown = redact_url(url.rstrip("/"))
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token:
            if not header_safe(token):
                raise SundialUnreachable(
                    "the Sundial token holds a line break or a control character; not sent"
                )
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, params=None) -> tuple[int, bytes]:
        where = f"{method} {self.shown}/api{path}"
        for attempt in range(RETRIES):
            try:
                answer = self.session.request(
                    method,
                    self.api + path,
                    params=params,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    body = read_bounded(answer, MAX_RESPONSE_BYTES, self.timeout)
                finally:
                    answer.close()
            except BoundExceeded as exc:
                raise SundialUnreachable(f"{where}: {exc}") from None
            except (requests.RequestException, OSError) as exc:
                if attempt + 1 < RETRIES:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise SundialUnreachable(
                    f"{where}: cannot connect ({' '.join(str(exc).split())[:160]})"
                ) from None
            except Exception as exc:  # urllib3's read errors
                raise SundialUnreachable(
                    f"{where}: the answer was cut off ({exc})"
                ) from None
            if answer.status_code in (502, 503, 504) and attempt + 1 < RETRIES:
                time.sleep(0.5 * 2**attempt)
                continue
            if 300 <= answer.status_code < 400:
                raise SundialUnreachable(
                    f"{where}: answered a redirect ({answer.status_code}); not followed "
                    "(the request carries the token): give --sundial-url the address "
                    "Sundial is served at"
                )
            if answer.status_code in (401, 403):
                raise SundialUnreachable(
                    f"{where}: answered {answer.status_code}: the token is missing or "
                    "not accepted (--sundial-token-env)"
                )
            return answer.status_code, body
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, params=None):
        status, body = self._call(method, path, params)
        if status != 200:
            raise SundialUnreachable(
                f"{method} {self.shown}/api{path}: answered {status}"
            )
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise SundialUnreachable(
                f"{method} {self.shown}/api{path}: did not answer JSON (is --sundial-url "
                "Sundial's base URL?)"
            ) from None

    def _action(self, path: str, ok: tuple[int, ...]) -> None:
        status, _ = self._call("POST", path)
        if status not in ok:
            raise SundialUnreachable(
                f"POST {self.shown}/api{path}: answered {status}"
                + (
                    " (Sundial answers 500 for a process it does not have)"
                    if status == 500
                    else ""
                )
            )

    # -- the calls ----------------------------------------------------------------------

    def paused(self, name: str) -> bool:
        """The definition's paused flag now."""
        data = self._json("GET", f"/process_definitions/{quote(name, safe='')}")
        if not isinstance(data, dict):
            raise SundialUnreachable(
                f"GET {self.shown}/api/process_definitions/{name}: not a definition"
            )
        return data.get("paused") is True

    def pause(self, name: str) -> None:
        self._action(f"/process_definitions/{quote(name, safe='')}/pause", (200, 204))

    def resume(self, name: str) -> None:
        self._action(f"/process_definitions/{quote(name, safe='')}/resume", (200, 204))

    def kill(self, process_id: str) -> None:
        self._action(f"/processes/{quote(process_id, safe='')}/kill", (200, 201))

    def runs(
        self, name: str, statuses: tuple[str, ...], days: float = 7, limit: int = 100
    ) -> list[dict]:
        """Runs of ``name`` started in the last ``days`` days with one of ``statuses``,
        most recent first."""
        now = datetime.now(UTC)
        params = [
            ("process_definition_name", name),
            ("start_time", _iso(now - timedelta(days=days))),
            ("end_time", _iso(now + timedelta(minutes=5))),
            ("max_records", str(limit)),
        ] + [("allowed_statuses", s) for s in statuses]
        data = self._json("GET", "/processes/", params)
        if not isinstance(data, list):
            raise SundialUnreachable(
                f"GET {self.shown}/api/processes/: expected a list of runs"
            )
        return [r for r in data if isinstance(r, dict)]

    def running(self, name: str) -> list[str]:
        """The process ids of its runs in progress."""
        return [
            str(r.get("process_id"))
            for r in self.runs(name, ("running",), days=30)
            if r.get("status") == "running"
        ]

    def last_start(self, name: str) -> datetime | None:
        """When its most recent run started (any status), if within 30 days."""
        found = self.runs(name, ("running", "succeeded", "failed"), days=30, limit=1)
        for run in found:
            moment = parse_moment(run.get("start_time"))
            if moment is not None:
                return moment
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
