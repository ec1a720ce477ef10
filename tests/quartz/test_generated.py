"""Hypothesis-generated expressions compared with real Quartz 2.3.2.

Each hypothesis example is a *batch* (one JVM run for dozens of expressions), so a default
run stays well under a minute while still covering hundreds of expressions.  Hypothesis draws
the batch's seed; the batch itself comes from :mod:`tests.quartz.gen` (plain ``random``), so a
failure report lists the exact offending expressions rather than a shrunk example.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.quartz import QuartzCron, QuartzSyntaxError

from . import gen
from .oracle import ZONES
from .oracle import compare, describe

BATCH = 80
SETTINGS = dict(
    max_examples=6,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    derandomize=False,
)


def _start_ms(rng: random.Random, whole_seconds: bool) -> int:
    # 2000-01-01 .. 2037-01-01, biased to recent years
    lo, hi = (1704067200, 1830297600) if rng.random() < 0.7 else (946684800, 2114380800)
    s = rng.randint(lo, hi)
    if rng.random() < 0.3:
        s -= s % 60  # on a minute boundary (often exactly a fire time)
    ms = s * 1000
    if not whole_seconds and rng.random() < 0.3:
        ms += rng.randint(1, 999)
    return ms


@settings(**SETTINGS)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_valid_expressions_match_quartz(oracle, seed):
    rng = random.Random(seed)
    reqs = []
    for _ in range(BATCH):
        fields = gen.valid_fields(rng)
        expr = "0 " + " ".join(fields)
        # Quartz's 'W' compares against a scratch Calendar whose milliseconds come from the
        # wall clock: only whole-second starts are deterministic there.
        whole = "W" in expr.upper()
        zone = rng.choice(ZONES)
        reqs.append((zone, expr, _start_ms(rng, whole), 100))
    bad = compare(oracle, reqs)
    assert not bad, "\n".join(describe(b) for b in bad[:5])


@settings(**SETTINGS)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_fields_parse_via_sundial_api(seed):
    rng = random.Random(seed)
    for _ in range(BATCH):
        fields = gen.valid_fields(rng)
        cron = QuartzCron.parse(*fields)
        assert cron.expression == ("0 " + " ".join(fields)).upper()


@settings(**{**SETTINGS, "max_examples": 8})
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_rejection_parity(oracle, seed):
    rng = random.Random(seed)
    """Near-valid / invalid strings: Quartz and the port must agree on accept vs reject."""
    reqs = [("UTC", gen.near_valid_expression(rng), 0, 0) for _ in range(150)]
    java = oracle.run(reqs)
    bad = []
    for (zone, expr, _, _), j in zip(reqs, java):
        try:
            QuartzCron.parse_expression(expr)
            ours = "ok"
        except QuartzSyntaxError:
            ours = "err"
        if (j.kind == "err") != (ours == "err"):
            bad.append(f"{expr!r}: quartz={j.kind} {j.message!r} python={ours}")
    assert not bad, "\n".join(bad[:20])


@settings(**{**SETTINGS, "max_examples": 4})
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_near_valid_accepted_ones_also_evaluate_the_same(oracle, seed):
    rng = random.Random(seed)
    """Strings Quartz accepts despite looking wrong must also *fire* identically."""
    reqs = []
    while len(reqs) < BATCH:
        expr = gen.near_valid_expression(rng)
        try:
            QuartzCron.parse_expression(expr)
        except QuartzSyntaxError:
            continue
        if "W" in expr.upper():
            continue  # may hit Quartz's infinite 'W' loops (covered by handpicked tests)
        reqs.append((rng.choice(ZONES), expr, _start_ms(rng, True), 50))
    bad = compare(oracle, reqs)
    assert not bad, "\n".join(describe(b) for b in bad[:5])
