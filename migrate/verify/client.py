"""A small client for Airflow 3's public REST API (``/api/v2``), for `migrate verify`.

Authentication (Airflow 3 puts every API call behind the auth manager's JWT):

- ``--username``/``--password-env``: ``POST /auth/token`` with ``{"username",
  "password"}`` returns ``{"access_token"}`` (the simple auth manager, Airflow's default,
  and the FAB auth manager both serve it);
- ``--token-env``: a token obtained elsewhere (another auth manager, a UI session);
- neither: the API is tried without credentials, then ``GET /auth/token`` (which hands
  out an admin token only when ``[core] simple_auth_manager_all_admins`` is on).

The password and the token are only ever put in a request body or the
``Authorization`` header; no message contains them.  Failures to connect, to log in or
to get an Airflow 3 answer end as ``AirflowUnreachable`` (exit code 2).
"""

from __future__ import annotations

import time
import json
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import requests

from migrate.extract.http import (
    MAX_REDIRECTS,
    REDIRECTS,
    BoundExceeded,
    header_safe,
    origin,
    read_bounded,
    redact_url,
)

PAGE = 100  # Airflow's default [api] maximum_page_limit
RETRIES = 3
# DAGs or import errors read from one list; more is a runaway server
MAX_ITEMS = 1_000_000
# one answer, decoded (a page of 100 DAGs is a few hundred KiB)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class AirflowUnreachable(Exception):
    """Cannot connect, log in, or read the API (one line)."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read in full, within MAX_RESPONSE_BYTES and the timeout."""

    status_code: int
    headers: object  # requests' case-insensitive mapping
    reason: str | None
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def json(self):
        """The body as JSON; ValueError for anything else (nesting Python cannot
        build included)."""
        try:
            return json.loads(self.body)
        except RecursionError:
            raise ValueError("nested too deeply to read") from None


def redact(url: str) -> str:
    return redact_url(url)


class AirflowClient:
    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
    ):
        self.base = url.rstrip("/")
        self.shown = redact(self.base)
        self.session = requests.Session()
        self.session.verify = verify
        self.session.headers["Accept"] = "application/json"
        self.timeout = timeout
        self._username = username
        self._password = password
        self._token = token
        self.version: str | None = None

    # -- transport --------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw) -> "Answer":
        """One call, retried on connection errors and 502-504; redirects followed by
        hand, within the --airflow-url origin only (the request may carry the password
        or the token)."""
        url = self.base + path
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url, **kw)
            location = answer.headers.get("Location")
            if answer.status_code not in REDIRECTS or not location:
                return answer
            target = urljoin(url, location)
            if origin(target) != origin(self.base):
                raise AirflowUnreachable(
                    f"{self.shown}: {method} {path} redirected to {redact(target)}, "
                    "another origin: not followed (the request carries credentials); "
                    "give --airflow-url the address the api-server is served at"
                )
            if answer.status_code in (301, 302, 303) and method != "GET":
                method, kw = "GET", {}  # as browsers do: the body is not sent again
            url = target
            kw.pop("params", None)  # the new location carries its own query
        raise AirflowUnreachable(
            f"{self.shown}: {method} {path}: more than {MAX_REDIRECTS} redirects (a "
            "redirect loop?); check --airflow-url"
        )

    def _once(self, method: str, url: str, **kw) -> "Answer":
        for attempt in range(RETRIES):
            try:
                streamed = self.session.request(
                    method,
                    url,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    **kw,
                )
                try:
                    body = read_bounded(streamed, MAX_RESPONSE_BYTES, self.timeout)
                except BoundExceeded:
                    raise
                except Exception as exc:  # urllib3's read errors: a dropped connection
                    raise requests.ConnectionError(str(exc)) from None
                finally:
                    streamed.close()
                answer = Answer(
                    streamed.status_code, streamed.headers, streamed.reason, body
                )
            except BoundExceeded as exc:
                raise AirflowUnreachable(
                    f"{self.shown}: {method} {urlsplit(url).path}: {exc}"
                ) from None
            except requests.exceptions.SSLError as exc:
                raise AirflowUnreachable(
                    f"cannot connect to {self.shown}: TLS failed ({_short(exc)})"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 < RETRIES:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise AirflowUnreachable(
                    f"cannot connect to {self.shown}: {_short(exc)}"
                ) from None
            if answer.status_code in (502, 503, 504) and attempt + 1 < RETRIES:
                time.sleep(0.5 * 2**attempt)
                continue
            return answer
        raise AssertionError("unreachable")

    def get(self, path: str, params: dict | None = None) -> dict:
        answer = self._request("GET", path, params=params)
        if answer.status_code in (401, 403):
            raise AirflowUnreachable(
                f"{self.shown}: GET {path} answered {answer.status_code} "
                f"({_detail(answer)}): "
                + (
                    "the credentials are not accepted, or the user may not read DAGs"
                    if self._username or self._token
                    else "the API needs credentials: --username with --password-env, "
                    "or --token-env"
                )
            )
        if answer.status_code != 200:
            raise AirflowUnreachable(
                f"{self.shown}: GET {path} answered {answer.status_code} "
                f"({_detail(answer)}); is this the Airflow 3 API server?"
            )
        try:
            data = answer.json()
        except ValueError:
            raise AirflowUnreachable(
                f"{self.shown}: GET {path} did not answer JSON; is this the Airflow 3 "
                "API server?"
            ) from None
        if not isinstance(data, dict):
            raise AirflowUnreachable(f"{self.shown}: GET {path}: unexpected answer")
        return data

    # -- session ----------------------------------------------------------------------
    def connect(self) -> None:
        """Check it is Airflow 3 and log in."""
        answer = self._request("GET", "/api/v2/version")
        try:
            self.version = answer.json().get("version") if answer.ok else None
        except (ValueError, AttributeError):
            self.version = None
        if not isinstance(self.version, str) or not self.version:
            self.version = None
            raise AirflowUnreachable(
                f"{self.shown}: GET /api/v2/version answered {answer.status_code}: not "
                "an Airflow 3 API server (check --airflow-url: the api-server's base URL)"
            )
        if (
            not self.version.split(".")[0].isdigit()
            or int(self.version.split(".")[0]) < 3
        ):
            raise AirflowUnreachable(
                f"{self.shown}: Airflow {self.version}; verify needs Airflow 3"
            )
        if self._token:
            self._use(self._token)
        elif self._username:
            self._login()
        else:
            probe = self._request("GET", "/api/v2/dags", params={"limit": 1})
            if probe.status_code in (401, 403):
                open_token = self._request("GET", "/auth/token")
                if open_token.status_code in (200, 201):
                    self._use(_token_of(open_token))

    def _login(self) -> None:
        answer = self._request(
            "POST",
            "/auth/token",
            json={"username": self._username, "password": self._password},
        )
        if answer.status_code in (200, 201):
            self._use(_token_of(answer))
            return
        if answer.status_code in (400, 401, 403):
            raise AirflowUnreachable(
                f"cannot log in to {self.shown} as {self._username!r}: "
                f"{answer.status_code} {_detail(answer)}"
            )
        raise AirflowUnreachable(
            f"cannot log in to {self.shown}: POST /auth/token answered "
            f"{answer.status_code} (this auth manager may not take a username and "
            "password: get a token and pass it with --token-env)"
        )

    def _use(self, token: str) -> None:
        if not token:
            raise AirflowUnreachable(f"{self.shown}: the token is empty")
        if not header_safe(token):
            raise AirflowUnreachable(
                f"{self.shown}: the token holds control characters; not sent"
            )
        self.session.headers["Authorization"] = f"Bearer {token}"

    # -- reads ------------------------------------------------------------------------
    def _pages(self, path: str, key: str, params: dict) -> list[dict]:
        out: list[dict] = []
        offset = 0
        while True:
            page = self.get(path, {**params, "limit": PAGE, "offset": offset})
            items = page.get(key)
            if not isinstance(items, list):
                raise AirflowUnreachable(
                    f"{self.shown}: GET {path}: no {key!r} list in the answer"
                )
            total = page.get("total_entries", 0)
            if type(total) is not int or total < 0:
                raise AirflowUnreachable(
                    f"{self.shown}: GET {path}: total_entries is {total!r}, not a count"
                )
            out.extend(items)
            offset += len(items)
            if not items or offset >= total:
                return out
            if offset >= MAX_ITEMS:
                raise AirflowUnreachable(
                    f"{self.shown}: GET {path}: more than {MAX_ITEMS} entries "
                    f"(total_entries {total}); not read further"
                )

    def dags(self) -> list[dict]:
        """Every DAG Airflow knows, stale ones included (``is_stale``)."""
        return self._pages(
            "/api/v2/dags", "dags", {"order_by": "dag_id", "exclude_stale": "false"}
        )

    def import_errors(self) -> list[dict]:
        return self._pages(
            "/api/v2/importErrors", "import_errors", {"order_by": "import_error_id"}
        )

    # -- what a cutover changes --------------------------------------------------------
    def _send(self, method: str, path: str, body: dict) -> dict:
        answer = self._request(method, path, json=body)
        if answer.status_code != 200:
            raise AirflowUnreachable(
                f"{self.shown}: {method} {path} answered {answer.status_code} "
                f"({_detail(answer)})"
            )
        try:
            data = answer.json()
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """PATCH the DAG's is_paused (REST v2)."""
        self._send(
            "PATCH", f"/api/v2/dags/{quote(dag_id, safe='')}", {"is_paused": paused}
        )

    def dag(self, dag_id: str) -> dict:
        return self.get(f"/api/v2/dags/{quote(dag_id, safe='')}")

    def runs_in_progress(self, dag_id: str) -> list[str]:
        """The run ids of its DAG runs that are queued or running."""
        page = self.get(
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
            {"state": ["queued", "running"], "limit": PAGE},
        )
        runs = page.get("dag_runs")
        if not isinstance(runs, list):
            raise AirflowUnreachable(f"{self.shown}: GET dagRuns: no 'dag_runs' list")
        return [str(r.get("dag_run_id")) for r in runs if isinstance(r, dict)]

    def fail_run(self, dag_id: str, run_id: str) -> None:
        """Mark a DAG run failed (its running tasks are stopped)."""
        self._send(
            "PATCH",
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
            {"state": "failed"},
        )

    def dag_runs(self, dag_id: str, since) -> list[dict]:
        """Its DAG runs whose run_after is at or after ``since``, oldest first."""
        return self._pages(
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
            "dag_runs",
            {
                "run_after_gte": since.isoformat(),
                "order_by": "run_after",
            },
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self._pages(
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/"
            f"{quote(run_id, safe='')}/taskInstances",
            "task_instances",
            {},
        )

    def latest_scheduled_run(self, dag_id: str) -> dict | None:
        page = self.get(
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
            {"run_type": "scheduled", "order_by": "-run_after", "limit": 1},
        )
        runs = page.get("dag_runs") or []
        return runs[0] if runs else None


def _token_of(answer: Answer) -> str:
    try:
        return str(answer.json()["access_token"])
    except (ValueError, KeyError, TypeError):
        return ""


def _detail(answer: Answer) -> str:
    try:
        detail = answer.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
    text = str(detail) if detail else answer.reason or ""
    return " ".join(text.split())[:200]


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return text[:200]
