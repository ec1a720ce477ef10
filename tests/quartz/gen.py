"""Random generators of Quartz cron expressions (shared by the hypothesis tests and the bench).

All functions take a ``random.Random``; hypothesis drives them through ``st.randoms()`` so
failures shrink and replay.
"""

from __future__ import annotations

import random

MONTH_NAMES = [
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# field -> (lo, hi, max increment accepted by checkIncrementRange, names)
FIELDS = {
    "minutes": (0, 59, 59, None),
    "hours": (0, 23, 23, None),
    "day_of_month": (1, 31, 31, None),
    "month": (1, 12, 12, MONTH_NAMES),
    "day_of_week": (1, 7, 7, DAY_NAMES),
}


def _case(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.7:
        return s
    if r < 0.85:
        return s.lower()
    return "".join(c.lower() if rng.random() < 0.5 else c for c in s)


def _value(rng: random.Random, field: str, use_names: bool) -> str:
    lo, hi, _, names = FIELDS[field]
    v = rng.randint(lo, hi)
    if use_names and names:
        return _case(rng, names[v - lo])
    if rng.random() < 0.1:
        return f"{v:02d}"  # leading zero
    return str(v)


def _item(rng: random.Random, field: str) -> str:
    lo, hi, max_incr, names = FIELDS[field]
    use_names = bool(names) and rng.random() < 0.4
    r = rng.random()
    if r < 0.30:
        return _value(rng, field, use_names)
    if r < 0.50:  # range, possibly wrapping
        return f"{_value(rng, field, use_names)}-{_value(rng, field, use_names)}"
    if r < 0.62:  # range with step (no increment check in Quartz here)
        a, b = rng.randint(lo, hi), rng.randint(lo, hi)
        step = (
            rng.choice([1, 2, 3, 5, rng.randint(1, hi + 5), 0])
            if rng.random() < 0.9
            else 0
        )
        return f"{a}-{b}/{step}"
    if r < 0.74:  # start/step
        return f"{rng.randint(lo, hi)}/{rng.randint(1, max_incr)}"
    if r < 0.86:  # */step or /step
        pre = "*" if rng.random() < 0.8 else ""
        return f"{pre}/{rng.randint(1, max_incr)}"
    return "*"


def _list(rng: random.Random, field: str) -> str:
    n = rng.choice([1, 1, 1, 2, 3])
    return ",".join(_item(rng, field) for _ in range(n))


def dom_field(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return _list(rng, "day_of_month")
    if r < 0.62:
        return "L"
    if r < 0.70:
        return f"L-{rng.randint(0, 30)}"
    if r < 0.76:
        return "LW"
    if r < 0.82:
        return f"L-{rng.randint(0, 20)}W"
    return f"{rng.randint(1, 31)}W"


def dow_field(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return _list(rng, "day_of_week")
    if r < 0.65:
        return "L"
    day = _value(rng, "day_of_week", rng.random() < 0.4)
    if r < 0.8:
        return f"{day}L"
    return f"{day}#{rng.randint(1, 5)}"


def valid_fields(rng: random.Random) -> tuple[str, str, str, str, str]:
    """Sundial's five fields, always accepted by Quartz 2.3.2."""
    minutes = _list(rng, "minutes")
    hours = _list(rng, "hours")
    month = _list(rng, "month")
    if rng.random() < 0.5:
        dom, dow = dom_field(rng), "?"
    else:
        dom, dow = "?", dow_field(rng)
    return minutes, hours, dom, month, dow


def valid_expression(rng: random.Random) -> str:
    return "0 " + " ".join(valid_fields(rng))


_ALPHABET = "0123456789" * 3 + "LW#?*/-,," + "LWJANFEBMONSUN" + "xZ+ " + "\t"
_BAD_VALUES = [
    "60",
    "24",
    "32",
    "0",
    "13",
    "8",
    "99",
    "-1",
    "",
    "?",
    "L",
    "W",
    "#",
    "/",
    "*/",
]


def mutate(rng: random.Random, expr: str) -> str:
    """Small random edits of an expression: most results are near-valid, many invalid."""
    s = list(expr)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        pos = rng.randint(0, len(s))
        if op < 0.3 and s:
            s[min(pos, len(s) - 1)] = rng.choice(_ALPHABET)
        elif op < 0.55:
            s.insert(pos, rng.choice(_ALPHABET))
        elif op < 0.75 and s:
            del s[min(pos, len(s) - 1)]
        else:
            fields = "".join(s).split(" ")
            k = rng.randrange(len(fields))
            fields[k] = rng.choice(_BAD_VALUES + [fields[k] + rng.choice(_BAD_VALUES)])
            s = list(" ".join(fields))
    return "".join(s)


def near_valid_expression(rng: random.Random) -> str:
    r = rng.random()
    base = valid_expression(rng)
    if r < 0.75:
        return mutate(rng, base)
    if r < 0.9:  # both or neither '?'
        f = base.split(" ")
        f[3], f[5] = rng.choice(
            [("?", "?"), ("1", "MON"), ("*", "*"), ("L", "?"), ("?", "L")]
        )
        return " ".join(f)
    # random junk fields
    fields = ["0"] + [
        "".join(
            rng.choice(_ALPHABET.replace(" ", "").replace("\t", ""))
            for _ in range(rng.randint(1, 5))
        )
        for _ in range(5)
    ]
    return " ".join(fields)
