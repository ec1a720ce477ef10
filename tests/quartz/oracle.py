"""Run the real Quartz 2.3.2 ``CronExpression`` (tools/quartz-oracle) and our port side by side.

The Java harness is compiled once per source/jar version into a cache directory and run as
one JVM per batch, so thousands of expressions cost a single JVM start.

Needs ``java``/``javac`` and the Quartz jar (Debian: ``apt-get install -y libquartz2-java
default-jdk-headless``; or point ``QUARTZ_JAR`` at a quartz-2.3.2.jar).  Without them the
tests are skipped - unless ``CI`` is set, where a missing oracle is a failure.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "tools" / "quartz-oracle" / "QuartzOracle.java"

if str(REPO) not in sys.path:  # pragma: no cover - bench/ imports this file directly
    sys.path.insert(0, str(REPO))

from migrate.quartz import (  # noqa: E402
    QuartzCron,
    QuartzInfiniteLoopError,
    QuartzRuntimeError,
    QuartzSyntaxError,
)

# the zones the differential tests and bench evaluate every expression in
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)

JAR_CANDIDATES = (
    "/usr/share/java/quartz2.jar",
    "/usr/share/java/quartz2-2.3.2.jar",
    "/usr/share/maven-repo/org/quartz-scheduler/quartz/2.3.2/quartz-2.3.2.jar",
)


class OracleUnavailable(RuntimeError):
    pass


def find_quartz_jar() -> str | None:
    env = os.environ.get("QUARTZ_JAR")
    if env:
        return env if os.path.isfile(env) else None
    for cand in JAR_CANDIDATES:
        if os.path.isfile(cand):
            return cand
    hits = sorted(glob.glob("/usr/share/java/quartz*2.3*.jar"))
    return hits[0] if hits else None


@dataclass
class Result:
    """One oracle answer: ``kind`` is 'ok', 'err' (rejected), 'exc' (evaluation threw) or
    'hang' (evaluation never returns)."""

    kind: str
    times: list[int] = field(default_factory=list)
    null: bool = False  # the sequence ended with a null (no further fire time)
    message: str = ""

    def same_as(self, other: "Result") -> bool:
        if self.kind != other.kind:
            return False
        if self.kind == "ok":
            return self.times == other.times and self.null == other.null
        return True


def _encode(expr: str) -> str:
    return expr.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _decode_line(line: str) -> Result:
    if line.startswith("ERR\t"):
        return Result("err", message=line[4:])
    if line.startswith("EXC\t"):
        return Result("exc", message=line[4:])
    if line.startswith("HANG\t"):
        return Result("hang", message=line[5:])
    if line.startswith("BAD\t"):
        raise RuntimeError(f"oracle rejected request: {line}")
    if not line:
        return Result("ok")
    parts = line.split("\t")
    null = parts[-1] == "null"
    if null:
        parts = parts[:-1]
    return Result("ok", [int(x) for x in parts], null)


class Oracle:
    def __init__(self) -> None:
        java = shutil.which("java")
        javac = shutil.which("javac")
        jar = find_quartz_jar()
        missing = [
            name
            for name, v in (("java", java), ("javac", javac), ("quartz jar", jar))
            if not v
        ]
        if missing:
            raise OracleUnavailable(
                "Quartz oracle unavailable: missing "
                + ", ".join(missing)
                + " (apt-get install -y libquartz2-java default-jdk-headless)"
            )
        self.java, self.javac, self.jar = java, javac, jar
        self.classdir = self._compile()

    def _compile(self) -> str:
        src = SOURCE.read_bytes()
        key = hashlib.sha256(
            src + self.jar.encode() + str(os.path.getmtime(self.jar)).encode()
        )
        cache = Path(
            os.environ.get("QUARTZ_ORACLE_CACHE")
            or Path(tempfile.gettempdir()) / "sundial-quartz-oracle"
        )
        out = cache / key.hexdigest()[:16]
        if (out / "QuartzOracle.class").is_file():
            return str(out)
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache))
        proc = subprocess.run(
            [self.javac, "-nowarn", "-d", str(tmp), "-cp", self.jar, str(SOURCE)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"javac failed:\n{proc.stdout}\n{proc.stderr}")
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
        shutil.rmtree(tmp, ignore_errors=True)
        return str(out)

    def run(
        self, requests: list[tuple[str, str, int, int]], limit_ms: int = 5000
    ) -> list[Result]:
        """requests: (zone, expression, start epoch ms, count)."""
        if not requests:
            return []
        payload = "".join(
            f"{z}\t{_encode(e)}\t{int(s)}\t{int(n)}\n" for z, e, s, n in requests
        )
        proc = subprocess.run(
            [
                self.java,
                "-Xshare:auto",
                f"-Doracle.limitMs={int(limit_ms)}",
                "-cp",
                os.pathsep.join([self.classdir, self.jar]),
            ]
            + ["QuartzOracle"],
            input=payload,
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"oracle failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        lines = proc.stdout.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != len(requests):
            raise RuntimeError(
                f"oracle answered {len(lines)} lines for {len(requests)} requests"
            )
        return [_decode_line(x) for x in lines]


_cron_cache: dict[str, object] = {}


def python_result(zone: str, expr: str, start_ms: int, count: int) -> Result:
    """Same question answered by migrate.quartz."""
    cron = _cron_cache.get(expr)
    if cron is None:
        try:
            cron = QuartzCron.parse_expression(expr)
        except QuartzSyntaxError as e:
            cron = e
        _cron_cache[expr] = cron
    if isinstance(cron, QuartzSyntaxError):
        return Result("err", message=str(cron))
    times = []
    ms = start_ms
    try:
        for _ in range(count):
            ms = cron.next_fire_after_ms(ms, zone)
            if ms is None:
                return Result("ok", times, True)
            times.append(ms)
    except QuartzInfiniteLoopError as e:
        return Result("hang", message=str(e))
    except QuartzRuntimeError as e:
        return Result("exc", message=str(e))
    return Result("ok", times)


def compare(
    oracle: Oracle, requests: list[tuple[str, str, int, int]]
) -> list[tuple[tuple, Result, Result]]:
    """Return the mismatches as (request, java result, python result)."""
    java = oracle.run(requests)
    bad = []
    for req, j in zip(requests, java):
        p = python_result(*req)
        if not j.same_as(p):
            bad.append((req, j, p))
    return bad


def describe(mismatch: tuple[tuple, Result, Result]) -> str:
    from datetime import datetime, timezone

    (zone, expr, start, count), j, p = mismatch

    def fmt(r: Result) -> str:
        if r.kind != "ok":
            return f"{r.kind}: {r.message}"
        return "ok"

    lines = [f"zone={zone} expr={expr!r} start={start} count={count}"]
    lines.append(f"  java:   {fmt(j)}")
    lines.append(f"  python: {fmt(p)}")
    if j.kind == p.kind == "ok":
        for k, (a, b) in enumerate(zip(j.times + [None], p.times + [None])):
            if a != b:

                def iso(v):
                    if v is None:
                        return "None"
                    return datetime.fromtimestamp(v / 1000, timezone.utc).isoformat()

                prev = j.times[k - 1] if k else start
                lines.append(
                    f"  first difference at #{k}: after {iso(prev)} java={iso(a)} python={iso(b)}"
                )
                break
        if j.null != p.null:
            lines.append(f"  null: java={j.null} python={p.null}")
    return "\n".join(lines)
