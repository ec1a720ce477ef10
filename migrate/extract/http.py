"""HTTP for `migrate export --url`: one requests Session with retries and clear errors.

- Retries (with exponential backoff and jitter) on connection errors, dropped connections,
  truncated bodies, 429 and 5xx; a ``Retry-After`` header (seconds or HTTP date) is
  honoured, capped at ``max_retry_after``.
- Every request has a timeout; TLS verification is on (``ca_bundle`` replaces the CA set).
- The bearer token is read from an environment variable and only ever put in the
  ``Authorization`` header: no message, repr or log line contains it.
- Failures end as ``ExportError`` with one line a user can act on.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ExportError(Exception):
    """The export cannot go on.  ``str()`` is one line that says what to do."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split("\n")))


@dataclass
class HttpOptions:
    timeout: float = 30.0
    retries: int = 5
    backoff_base: float = 0.25
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    verify: bool = True
    ca_bundle: str | None = None
    token_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_response_bytes: int = 512 * 1024 * 1024  # one response, decoded


MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``: where credentials given for it may go."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def header_safe(value: str) -> bool:
    """Can ``value`` be sent in a header: no line break, NUL or other control character
    (which would end the header and start another)?"""
    return not any(c in value for c in "\r\n\0") and value.isprintable()


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` -> ``('Name', 'value')``; raises ValueError when malformed."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise ValueError(f"--header {name.strip()!r}... is not 'Name: value'")
    if "\n" in value or "\r" in value:
        raise ValueError(f"--header {name.strip()}: the value contains a line break")
    return name.strip(), value.strip()


def redact_url(url: str) -> str:
    """The URL without a password (and without query and fragment)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Client:
    """GETs JSON from one Sundial base URL."""

    def __init__(
        self,
        base_url: str,
        options: HttpOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.options = options or HttpOptions()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ExportError(
                f"--url {redact_url(base_url)!r} is not an http(s) URL "
                "(e.g. https://sundial.example.com)"
            )
        root = base_url.rstrip("/")
        self.api = root if root.endswith("/api") else root + "/api"
        self.sleep = sleep
        if self.options.ca_bundle and not os.path.isfile(self.options.ca_bundle):
            raise ExportError(
                f"--ca-bundle {self.options.ca_bundle}: no such file "
                "(give a PEM file with the CA certificates to trust)"
            )
        self._token = None
        if self.options.token_env:
            token = os.environ.get(self.options.token_env)
            if not token:
                raise ExportError(
                    f"--token-env {self.options.token_env}: that environment variable "
                    "is not set or empty (export the API token in it)"
                )
            self._token = token.strip()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._cancelled = threading.Event()
        self.session = self._session()  # this thread's; other threads get their own
        self.requests_made = 0

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.trust_env = False
        session.headers["Accept"] = "application/json"
        session.headers["User-Agent"] = "sundial-migrate export"
        session.headers.update(self.options.headers)
        if self.options.ca_bundle:
            session.verify = self.options.ca_bundle
        else:
            session.verify = self.options.verify
        if self._token is not None:
            session.headers["Authorization"] = f"Bearer {self._token}"
        return session

    def _session(self) -> requests.Session:
        """The calling thread's session (requests sessions are not thread-safe); each
        keeps its connections alive."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
            with self._lock:
                self._sessions.append(session)
        return session

    @property
    def last_content_type(self) -> str:
        """The Content-Type of this thread's last successful response."""
        return getattr(self._local, "content_type", "")

    def cancel(self) -> None:
        """Make every request in progress or to come end with ExportError, soon (used to
        stop worker threads when the export fails or is interrupted)."""
        self._cancelled.set()

    def __repr__(self) -> str:  # never show headers
        return f"Client({self.api!r})"

    def close(self) -> None:
        self.cancel()
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get_bytes(self, path: str, params: Any = None) -> bytes:
        """GET ``/api`` + ``path``: the whole body, after retries; raises ExportError."""
        start_url = url = self.api + path
        where = f"GET {redact_url(url)}"
        attempt = hops = 0
        while True:
            attempt += 1
            last = attempt > self.options.retries
            if self._cancelled.is_set():
                raise ExportError(f"{where}: cancelled (the export stopped)")
            session = self._session()
            try:
                # redirects by hand: the request carries the token and --header values,
                # which go to --url's origin only (requests keeps custom headers on a
                # redirect to any host)
                response = session.get(
                    url,
                    params=params if url == start_url else None,
                    timeout=self.options.timeout,
                    stream=True,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise ExportError(
                    f"{where}: TLS certificate check failed ({_reason(exc)}); give the "
                    "server's CA with --ca-bundle FILE"
                ) from None
            except requests.exceptions.Timeout:
                if last:
                    raise ExportError(
                        f"{where}: no answer within {self.options.timeout:g}s after "
                        f"{attempt} attempts (raise --timeout, or check the server)"
                    ) from None
                self._backoff(attempt, None)
                continue
            except requests.exceptions.ConnectionError as exc:
                if last:
                    raise ExportError(
                        f"{where}: cannot connect after {attempt} attempts: {_reason(exc)} "
                        "(check --url and that Sundial is up)"
                    ) from None
                self._backoff(attempt, None)
                continue
            with self._lock:
                self.requests_made += 1
            status = response.status_code
            if status in REDIRECTS and response.headers.get("Location"):
                target = urljoin(response.url, response.headers["Location"])
                response.close()
                if origin(target) != origin(self.api):
                    raise ExportError(
                        f"{where}: HTTP {status} redirect to {redact_url(target)}, another "
                        "origin than --url's: not followed (the request carries "
                        "credentials); give --url the address Sundial is served at"
                    )
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise ExportError(
                        f"{where}: more than {MAX_REDIRECTS} redirects (a redirect loop?);"
                        " check --url"
                    )
                url = target
                attempt -= 1  # a redirect is not a failed attempt
                continue
            if status in RETRY_STATUSES:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                response.close()
                if last:
                    what = "rate limited (429)" if status == 429 else f"HTTP {status}"
                    raise ExportError(
                        f"{where}: {what} after {attempt} attempts (the server is "
                        "overloaded or failing; try again later)"
                    )
                self._backoff(attempt, retry_after)
                continue
            if status in (401, 403):
                response.close()
                hint = (
                    "the token was rejected; check the value in "
                    f"{self.options.token_env}"
                    if self.options.token_env
                    else "the server wants a token: pass --token-env VAR"
                )
                raise ExportError(
                    f"{where}: HTTP {status} {'unauthorized' if status == 401 else 'forbidden'} ({hint})"
                )
            if status == 404:
                response.close()
                raise ExportError(
                    f"{where}: HTTP 404 not found (is --url the Sundial service root, "
                    "e.g. https://sundial.example.com?)"
                )
            if status >= 400:
                response.close()
                raise ExportError(
                    f"{where}: HTTP {status} {response.reason or ''}".rstrip()
                )
            try:
                body = self._read_bounded(response, where)
                expected = response.headers.get("Content-Length")
                if (
                    expected is not None
                    and expected.isdigit()
                    and not response.headers.get("Content-Encoding")
                ):
                    if len(body) < int(expected):
                        raise _Truncated(len(body), int(expected))
            except ExportError:
                response.close()
                raise
            except Exception as exc:  # urllib3's errors are not RequestExceptions
                response.close()
                if isinstance(exc, _Truncated):
                    detail = f"got {exc.got} of {exc.expected} bytes"
                else:
                    detail = _reason(exc)
                if last:
                    raise ExportError(
                        f"{where}: the response body was cut off ({detail}) on all "
                        f"{attempt} attempts (a proxy or the server drops the connection)"
                    ) from None
                self._backoff(attempt, None)
                continue
            response.close()
            self._local.content_type = response.headers.get("Content-Type", "")
            return body

    def _read_bounded(self, response, where: str) -> bytes:
        try:
            return read_bounded(
                response, self.options.max_response_bytes, self.options.timeout
            )
        except BoundExceeded as exc:
            hint = (
                " (--max-response-mb raises the limit)"
                if isinstance(exc, TooLarge)
                else ""
            )
            raise ExportError(f"{where}: {exc}{hint}") from None

    def get_json(self, path: str, params: Any = None) -> Any:
        body = self.get_bytes(path, params)
        return self.parse_json(path, body, self.last_content_type)

    def parse_json(self, path: str, body: bytes, content_type: str) -> Any:
        """``body`` (fetched from ``path``, with that Content-Type) as JSON; ExportError
        when it is not."""
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportError(
                f"GET {redact_url(self.api + path)}: expected JSON, got "
                f"{content_type or 'no content type'} that does not parse "
                f"({getattr(exc, 'msg', type(exc).__name__)}; starts {_preview(body)}); "
                "is --url Sundial's API and not a login page or proxy?"
            ) from None

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = min(retry_after, self.options.max_retry_after)
        else:
            delay = min(
                self.options.backoff_base * 2 ** (attempt - 1), self.options.backoff_max
            )
            delay *= 0.75 + random.random() * 0.5
        if self.sleep is time.sleep:
            self._cancelled.wait(delay)  # cancel() cuts the wait short
        else:
            self.sleep(delay)


class _Truncated(Exception):
    def __init__(self, got: int, expected: int):
        self.got = got
        self.expected = expected


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: BaseException) -> str:
    """A short cause from a requests/urllib3 exception chain, without URLs or headers."""
    inner: BaseException | None = exc
    text = ""
    seen = set()
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        name = type(inner).__name__
        if name in ("ConnectionRefusedError", "NewConnectionError"):
            return "connection refused"
        if name in ("RemoteDisconnected",):
            return "the server closed the connection without answering"
        if name in ("IncompleteRead", "ProtocolError", "ChunkedEncodingError"):
            text = "connection closed before the body ended"
        if name in ("NameResolutionError", "gaierror"):
            return "host name not found"
        inner = (
            inner.__context__
            or inner.__cause__
            or (
                inner.args[0]
                if inner.args and isinstance(inner.args[0], BaseException)
                else (
                    inner.args[1]
                    if len(inner.args) > 1 and isinstance(inner.args[1], BaseException)
                    else None
                )
            )
        )
    if text:
        return text
    message = str(exc)
    if "Connection refused" in message:
        return "connection refused"
    if "RemoteDisconnected" in message or "Connection aborted" in message:
        return "the server closed the connection without answering"
    if "IncompleteRead" in message:
        return "connection closed before the body ended"
    return type(exc).__name__


def _preview(body: bytes) -> str:
    text = body[:60].decode("utf-8", "replace")
    return repr(" ".join(text.split()))


class BoundExceeded(Exception):
    """A response larger than the cap, or slower than the timeout (the message says)."""


class TooLarge(BoundExceeded):
    pass


def read_bounded(response, cap: int, seconds: float) -> bytes:
    """A streamed ``requests`` response's decoded body, at most ``cap`` bytes of it,
    within ``seconds`` for the whole body (a server trickling a byte at a time never
    hits the per-read timeout; a compression bomb stops at the cap)."""
    deadline = time.monotonic() + seconds
    chunks, size = [], 0
    while True:
        chunk = response.raw.read1(1 << 16, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise TooLarge(
                f"the response is larger than {cap // (1024 * 1024)} MiB decoded (a "
                "compression bomb, or a runaway server); not read further"
            )
        if time.monotonic() > deadline:
            raise BoundExceeded(
                f"the response took longer than --timeout {seconds:g}s to arrive "
                f"({size} bytes so far)"
            )
        chunks.append(chunk)
