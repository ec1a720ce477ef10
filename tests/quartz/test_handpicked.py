"""Hand-picked expressions covering every syntax form and quirk, compared with real Quartz.

Each expression runs in five zones (incl. Lord Howe's 30-minute DST) from several start
instants - ordinary ones and ones right around each zone's DST transitions - for 100
consecutive fire times.  Everything goes to the oracle in one batch (one JVM).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .oracle import ZONES
from .oracle import compare, describe, python_result

FIRES = 100

# (seconds fixed to 0) "min hour dom month dow"
HANDPICKED = [
    # plain values, lists, ranges, steps
    "0 12 * * ?",
    "30 2 * * ?",  # inside the US/EU spring-forward gap
    "30 1 * * ?",  # inside the US fall-back overlap
    "0,15,30,45 1-3 * * ?",
    "*/15 * * * ?",
    "/20 */5 * * ?",
    "5/7 * * * ?",
    "7/59 * * * ?",  # increment bigger than what is left: only 7
    "10-50/20 8-18/3 * * ?",
    "0-59/0 0 * * ?",  # step 0 in a range: only the start value
    "*/0 0 * * ?",  # '*/0' means every minute
    "*/-5 3 * * ?",  # negative step after '*' also means every minute
    "50-10 * * * ?",  # wrap-around minutes
    "0 22-2 * * ?",  # wrap-around hours
    "0 22-2/3 * * ?",
    "0 0 25-5 * ?",  # wrap-around days of month (mod 31)
    "0 0 * NOV-FEB ?",  # wrap-around month names
    "0 0 ? * FRI-MON",  # wrap-around day names
    "0 0 ? * 7-2",  # numeric wrap-around days of week
    "0 9 ? * MON-FRI",
    "0 9 ? * mon,wed,fri",
    "0 9 ? * 2-6/2",
    "0 9 ? * */3",
    "0 0 1 */2 ?",
    "0 0 1 2/5 ?",
    "0 0 1 JAN,APR,JUL,OCT ?",
    "0 0 1 jan-mar ?",
    "0 0 1 JAN-MAR/2 ?",  # '/2' after a name range is ignored by Quartz
    "0 0 1 JANUARY ?",  # trailing letters after a 3-letter name are ignored
    "0 0 ? * MONDAY",
    "0 0 31 * ?",
    "0 0 29 2 ?",
    "0 0 30,31 2,4 ?",
    "0 12 31 2 ?",  # never fires -> null
    # L / L-n / W / LW in day_of_month
    "0 0 L * ?",
    "0 0 L-3 * ?",
    "0 0 L-0 * ?",
    "0 0 L-30 * ?",
    "0 0 LW * ?",
    "0 0 L-2W * ?",
    "0 0 L-W * ?",  # = LW
    "0 0 1W * ?",
    "0 0 15W * ?",
    "0 0 30W * ?",
    "0 0 31W * ?",
    "0 0 15W,20 * ?",  # W with a list: only the first day is used
    "0 0 1-5W * ?",  # W after a range is ignored
    "30 2 15W * ?",
    # L / nL / n#k in day_of_week
    "0 0 ? * L",  # 'L' alone = 7 (SAT)
    "0 0 ? * 6L",
    "0 0 ? * FRIL",
    "0 0 ? * 1L",
    "0 0 ? * 2#1",
    "0 0 ? * MON#2",
    "0 0 ? * 6#5",
    "0 0 ? * 2#1,4",  # '#' with a list: only the first day counts
    "0 0 ? * 2-4#2",  # '#' after a range is ignored
    "0 0 ? * L-3",  # 'L-3' in day_of_week = 7
    "30 2 ? * 1#2",
    # trailing garbage Quartz ignores, '?' with one trailing char
    "5X 3 * * ?",
    "0 3 * * ?X",
    "*5 3 * * ?",
    # DST-sensitive times of day
    "30 2 ? * SUN",
    "0,30 0-3 * * ?",
    "15,45 1,2 * * ?",
    "0 0 * * ?",
    "*/7 1-3 * * ?",
]

# a full expression with a year field is also valid Quartz
FULL_EXPRESSIONS = [
    "0 0 12 * * ? 2026-2030",
    "0 0 12 * * ? 2027",
    "0 0 12 * * ? 1999",  # never -> null
    "0 30 10 ? * MON 2025/2",
]


def _transitions(zone: str, years=(2024, 2025)) -> list[int]:
    """Epoch seconds of the DST transitions of ``zone`` (hourly scan + bisection)."""
    tz = ZoneInfo(zone)
    out = []

    def off(t):
        return datetime.fromtimestamp(t, tz).utcoffset()

    t = int(datetime(years[0], 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(years[-1] + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    prev = off(t)
    while t < end:
        n = t + 3600
        cur = off(n)
        if cur != prev:
            lo, hi = t, n
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        prev, t = cur, n
    return out


def _starts(zone: str) -> list[int]:
    starts = [
        1704067200,  # 2024-01-01T00:00Z
        1719792000 + 37,  # mid-2024, odd seconds
        1740787199,  # 2025-02-28T23:59:59Z
    ]
    for tr in _transitions(zone)[:2]:
        # just before / right at / inside the transition window
        starts += [tr - 3 * 3600, tr - 1800, tr - 60, tr, tr + 1800]
    return [s * 1000 for s in starts]


def _requests():
    reqs = []
    exprs = ["0 " + e for e in HANDPICKED] + FULL_EXPRESSIONS
    for zone in ZONES:
        for start in _starts(zone):
            for expr in exprs:
                reqs.append((zone, expr, start, FIRES))
    return reqs


def test_handpicked_match_quartz(oracle):
    reqs = _requests()
    bad = compare(oracle, reqs)
    assert not bad, f"{len(bad)}/{len(reqs)} mismatches:\n" + "\n".join(
        describe(b) for b in bad[:10]
    )


def test_handpicked_are_all_accepted():
    # every handpicked expression is valid Quartz (the oracle test would also catch this,
    # but this runs without Java)
    for e in HANDPICKED:
        r = python_result("UTC", "0 " + e, 0, 1)
        assert r.kind == "ok", (e, r)


def test_runtime_failures_and_hangs_match_quartz(oracle):
    """Expressions Quartz accepts but cannot evaluate (throws) or never finishes."""
    cases = [
        ("UTC", "0 L * * * ?", 1704067200000, 3),  # 'L' in minutes: empty set -> throws
        ("UTC", "0 0 , * * ?", 1704067200000, 3),  # ',' alone: empty hours set
        ("UTC", "0 0 0 0W * ?", 1704067200000, 3),  # loops forever in Quartz
        ("America/New_York", "0 0 1 L-30W * ?", 1704067200000, 3),  # loops forever
    ]
    java = oracle.run(cases, limit_ms=1500)
    for req, j in zip(cases, java):
        p = python_result(*req)
        assert j.kind == p.kind, (req, j, p)
    assert [j.kind for j in java] == ["exc", "exc", "hang", "hang"]
