"""Line-by-line port of the Quartz 2.3.2 ``CronExpression`` parser.

Faithfulness beats tidiness here: Quartz silently ignores trailing garbage in many places,
accepts some strange forms and rejects others only through Java runtime exceptions
(``StringIndexOutOfBoundsException``, ``NumberFormatException`` ...), which its
``buildExpression`` turns into a ``ParseException``.  Every such path is reproduced, and each
rejection is reported as a :class:`QuartzSyntaxError` naming the offending field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

__all__ = ["QuartzSyntaxError", "ParsedCron", "parse_quartz", "FIELD_NAMES", "MAX_YEAR"]

SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR = range(7)
FIELD_NAMES = (
    "seconds",
    "minutes",
    "hours",
    "day_of_month",
    "month",
    "day_of_week",
    "year",
)
ALL_SPEC = 99  # '*'
NO_SPEC = 98  # '?'

# CronExpression.MAX_YEAR = Calendar.getInstance().get(YEAR) + 100, fixed at class load
MAX_YEAR = datetime.now(timezone.utc).year + 100

MONTHS = {
    "JAN": 0,
    "FEB": 1,
    "MAR": 2,
    "APR": 3,
    "MAY": 4,
    "JUN": 5,
    "JUL": 6,
    "AUG": 7,
    "SEP": 8,
    "OCT": 9,
    "NOV": 10,
    "DEC": 11,
}
DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

_RANGE_TEXT = {
    SECOND: "0-59",
    MINUTE: "0-59",
    HOUR: "0-23",
    DAY_OF_MONTH: "1-31",
    MONTH: "1-12 (JAN=1 ... DEC=12)",
    DAY_OF_WEEK: "1-7 (SUN=1 ... SAT=7)",
}
_INCR_MAX = {
    SECOND: 59,
    MINUTE: 59,
    HOUR: 23,
    DAY_OF_MONTH: 31,
    DAY_OF_WEEK: 7,
    MONTH: 12,
}
_L_DASH = re.compile(r"L-[0-9]*W?")


class QuartzSyntaxError(ValueError):
    """An expression Quartz 2.3.2 would reject; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _Fail(Exception):
    """Internal: a ParseException (or a Java runtime exception) inside one field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _char_at(s: str, i: int) -> str:
    if i < 0 or i >= len(s):
        raise _Fail(f"unexpected end of value {s!r}")
    return s[i]


def _substring(s: str, a: int, b: int | None = None) -> str:
    if b is None:
        b = len(s)
    if a < 0 or b > len(s) or a > b:
        raise _Fail(f"value {s!r} is too short")
    return s[a:b]


def _java_parse_int(text: str, what: str) -> int:
    """``Integer.parseInt``: optional +/- sign, then Unicode decimal digits, int32 range."""
    s = text
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if not s:
        raise _Fail(f"{what}: {text!r} is not a number")
    v = 0
    for ch in s:
        d = unicodedata.decimal(ch, None)
        if d is None:
            raise _Fail(f"{what}: {text!r} is not a number")
        v = v * 10 + d
    v = -v if neg else v
    if v < -(2**31) or v > 2**31 - 1:
        raise _Fail(f"{what}: {text!r} is out of the int range")
    return v


def _is_ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _java_trim(s: str) -> str:
    a, b = 0, len(s)
    while a < b and s[a] <= " ":
        a += 1
    while b > a and s[b - 1] <= " ":
        b -= 1
    return s[a:b]


class ParsedCron:
    """The state a Quartz ``CronExpression`` holds after ``buildExpression``."""

    __slots__ = (
        "expression",
        "sets",
        "lastday_of_week",
        "nthday_of_week",
        "lastday_of_month",
        "nearest_weekday",
        "lastday_offset",
    )

    def __init__(self, expression: str):
        self.expression = expression
        self.sets: list[set[int]] = [set() for _ in range(7)]
        self.lastday_of_week = False
        self.nthday_of_week = 0
        self.lastday_of_month = False
        self.nearest_weekday = False
        self.lastday_offset = 0


class _Parser:
    def __init__(self, expression: str):
        self.p = ParsedCron(expression)

    # ---- buildExpression -------------------------------------------------------------------
    def build(self) -> ParsedCron:
        p = self.p
        expression = p.expression
        tokens = [t for t in re.split(r"[ \t]", expression) if t]
        expr_on = SECOND
        for raw in tokens:
            if expr_on > YEAR:
                break  # Quartz silently ignores tokens after the year field
            expr = _java_trim(raw)
            field = FIELD_NAMES[expr_on]
            try:
                if (
                    expr_on == DAY_OF_MONTH
                    and "L" in expr
                    and len(expr) > 1
                    and "," in expr
                ):
                    raise _Fail(
                        f"{expr!r}: 'L'/'LW' cannot be combined with other days of the month"
                    )
                if (
                    expr_on == DAY_OF_WEEK
                    and "L" in expr
                    and len(expr) > 1
                    and "," in expr
                ):
                    raise _Fail(
                        f"{expr!r}: 'L' cannot be combined with other days of the week"
                    )
                if expr_on == DAY_OF_WEEK and expr.count("#") > 1:
                    raise _Fail(f"{expr!r}: only one 'nth' day ('#') is supported")
                for v in expr.split(","):
                    if v:
                        self.store(v, expr_on)
            except _Fail as e:
                raise QuartzSyntaxError(field, e.message) from None
            expr_on += 1
        if expr_on <= DAY_OF_WEEK:
            raise QuartzSyntaxError(
                FIELD_NAMES[expr_on], "missing (unexpected end of expression)"
            )
        if expr_on <= YEAR:
            try:
                self.store("*", YEAR)
            except _Fail as e:  # pragma: no cover - cannot happen
                raise QuartzSyntaxError("year", e.message) from None
        dom_spec = NO_SPEC not in p.sets[DAY_OF_MONTH]
        dow_spec = NO_SPEC not in p.sets[DAY_OF_WEEK]
        if (not dom_spec or dow_spec) and (not dow_spec or dom_spec):
            raise QuartzSyntaxError(
                "day_of_month/day_of_week",
                "exactly one of day_of_month and day_of_week must be '?' "
                "(Quartz does not support specifying both, or neither)",
            )
        return p

    # ---- storeExpressionVals ---------------------------------------------------------------
    def store(self, s: str, type_: int) -> None:
        p = self.p
        i = 0
        while i < len(s) and s[i] in " \t":
            i += 1
        if i >= len(s):
            return
        c = s[i]
        incr = 0
        if "A" <= c <= "Z" and s != "L" and s != "LW" and not _L_DASH.fullmatch(s):
            sub = _substring(s, i, i + 3)
            eval_ = -1
            if type_ == MONTH:
                sval = MONTHS.get(sub, -1) + 1
                if sval <= 0:
                    raise _Fail(f"invalid month name {sub!r} in {s!r} (use JAN-DEC)")
                if len(s) > i + 3:
                    c = s[i + 3]
                    if c == "-":
                        i += 4
                        sub = _substring(s, i, i + 3)
                        eval_ = MONTHS.get(sub, -1) + 1
                        if eval_ <= 0:
                            raise _Fail(
                                f"invalid month name {sub!r} in {s!r} (use JAN-DEC)"
                            )
            elif type_ == DAY_OF_WEEK:
                sval = DAYS.get(sub, -1)
                if sval < 0:
                    raise _Fail(
                        f"invalid day-of-week name {sub!r} in {s!r} (use SUN-SAT)"
                    )
                if len(s) > i + 3:
                    c = s[i + 3]
                    if c == "-":
                        i += 4
                        sub = _substring(s, i, i + 3)
                        eval_ = DAYS.get(sub, -1)
                        if eval_ < 0:
                            raise _Fail(
                                f"invalid day-of-week name {sub!r} in {s!r} (use SUN-SAT)"
                            )
                    elif c == "#":
                        i += 4
                        self._nth(s, i)
                    elif c == "L":
                        p.lastday_of_week = True
                        i += 1
            else:
                raise _Fail(f"{s!r}: names are not allowed in this field")
            if eval_ != -1:
                incr = 1
            self.add(sval, eval_, incr, type_, s)
            return

        if c == "?":
            i += 1
            if i + 1 < len(s) and s[i] != " " and s[i + 1] != "\t":
                raise _Fail(f"illegal character after '?' in {s!r}")
            if type_ != DAY_OF_WEEK and type_ != DAY_OF_MONTH:
                raise _Fail("'?' is only allowed in day_of_month or day_of_week")
            if type_ == DAY_OF_WEEK and not p.lastday_of_month:
                dom = p.sets[DAY_OF_MONTH]
                if not dom:
                    raise _Fail("'?' cannot be checked: day_of_month has no values")
                if max(dom) == NO_SPEC:
                    raise _Fail(
                        "'?' may be given for day_of_month or day_of_week, not both"
                    )
            self.add(NO_SPEC, -1, 0, type_, s)
            return

        if c == "*" or c == "/":
            if c == "*" and i + 1 >= len(s):
                self.add(ALL_SPEC, -1, incr, type_, s)
                return
            elif c == "/" and (i + 1 >= len(s) or s[i + 1] in " \t"):
                raise _Fail(f"{s!r}: '/' must be followed by an integer")
            elif c == "*":
                i += 1
            c = _char_at(s, i)
            if c == "/":
                i += 1
                if i >= len(s):
                    raise _Fail(f"{s!r}: '/' must be followed by an integer")
                # getNumericValue: findNextWhiteSpace is buggy and always runs to the end
                incr = _java_parse_int(s[i:], f"increment in {s!r}")
                self._check_incr(incr, type_, s)
            else:
                incr = 1
            self.add(ALL_SPEC, -1, incr, type_, s)
            return

        if c == "L":
            i += 1
            if type_ == DAY_OF_MONTH:
                p.lastday_of_month = True
            if type_ == DAY_OF_WEEK:
                self.add(7, 7, 0, type_, s)
            if type_ == DAY_OF_MONTH and len(s) > i:
                c = s[i]
                if c == "-":
                    val, pos = self._get_value(0, s, i + 1)
                    p.lastday_offset = val
                    if val > 30:
                        raise _Fail(f"{s!r}: offset from the last day must be <= 30")
                    i = pos
                if len(s) > i:
                    c = s[i]
                    if c == "W":
                        p.nearest_weekday = True
                        i += 1
            return

        if _is_ascii_digit(c):
            val = int(c)
            i += 1
            if i >= len(s):
                self.add(val, -1, -1, type_, s)
            else:
                c = s[i]
                if _is_ascii_digit(c):
                    val, i = self._get_value(val, s, i)
                self._check_next(i, s, val, type_)
            return

        raise _Fail(f"unexpected character {c!r} in {s!r}")

    def _nth(self, s: str, i: int) -> None:
        try:
            n = _java_parse_int(_substring(s, i), "")
            if n < 1 or n > 5:
                raise _Fail("")
        except _Fail:
            raise _Fail(
                f"{s!r}: '#' must be followed by a number between 1 and 5"
            ) from None
        self.p.nthday_of_week = n

    def _check_incr(self, incr: int, type_: int, s: str) -> None:
        mx = _INCR_MAX.get(type_)
        if mx is not None and incr > mx:
            raise _Fail(f"{s!r}: increment {incr} is larger than {mx}")

    @staticmethod
    def _get_value(v: int, s: str, i: int) -> tuple[int, int]:
        c = _char_at(s, i)
        digits = [str(v)]
        while _is_ascii_digit(c):
            digits.append(c)
            i += 1
            if i >= len(s):
                break
            c = s[i]
        pos = i if i < len(s) else i + 1
        value = _java_parse_int("".join(digits), f"value in {s!r}")
        return value, pos

    # ---- checkNext -------------------------------------------------------------------------
    def _check_next(self, pos: int, s: str, val: int, type_: int) -> None:
        p = self.p
        end = -1
        i = pos
        if i >= len(s):
            self.add(val, end, -1, type_, s)
            return
        c = s[pos]
        if c == "L":
            if type_ == DAY_OF_WEEK:
                if val < 1 or val > 7:
                    raise _Fail(
                        f"{s!r}: '{val}' is out of range {_RANGE_TEXT[DAY_OF_WEEK]}"
                    )
                p.lastday_of_week = True
            else:
                raise _Fail(f"{s!r}: 'L' after a number is only valid in day_of_week")
            p.sets[type_].add(val)
            return
        if c == "W":
            if type_ == DAY_OF_MONTH:
                p.nearest_weekday = True
            else:
                raise _Fail(f"{s!r}: 'W' is only valid in day_of_month")
            if val > 31:
                raise _Fail(f"{s!r}: 'W' needs a day of month <= 31")
            p.sets[type_].add(val)
            return
        if c == "#":
            if type_ != DAY_OF_WEEK:
                raise _Fail(f"{s!r}: '#' is only valid in day_of_week")
            i += 1
            self._nth(s, i)
            p.sets[type_].add(val)
            return
        if c == "-":
            i += 1
            c = _char_at(s, i)
            v = _java_parse_int(c, f"range end in {s!r}")
            end = v
            i += 1
            if i >= len(s):
                self.add(val, end, 1, type_, s)
                return
            c = s[i]
            if _is_ascii_digit(c):
                end, i = self._get_value(v, s, i)
            if i < len(s) and s[i] == "/":
                i += 1
                c = _char_at(s, i)
                v2 = _java_parse_int(c, f"increment in {s!r}")
                i += 1
                if i >= len(s):
                    self.add(val, end, v2, type_, s)
                    return
                c = s[i]
                if _is_ascii_digit(c):
                    v3, i = self._get_value(v2, s, i)
                    self.add(val, end, v3, type_, s)
                else:
                    self.add(val, end, v2, type_, s)
                return
            self.add(val, end, 1, type_, s)
            return
        if c == "/":
            if i + 1 >= len(s) or s[i + 1] in " \t":
                raise _Fail(f"{s!r}: '/' must be followed by an integer")
            i += 1
            c = s[i]
            v2 = _java_parse_int(c, f"increment in {s!r}")
            i += 1
            if i >= len(s):
                self._check_incr(v2, type_, s)
                self.add(val, end, v2, type_, s)
                return
            c = s[i]
            if _is_ascii_digit(c):
                v3, i = self._get_value(v2, s, i)
                self._check_incr(v3, type_, s)
                self.add(val, end, v3, type_, s)
                return
            raise _Fail(f"{s!r}: unexpected character {c!r} after '/'")
        self.add(val, end, 0, type_, s)

    # ---- addToSet --------------------------------------------------------------------------
    def add(self, val: int, end: int, incr: int, type_: int, s: str) -> None:
        st = self.p.sets[type_]
        bad = False
        if type_ in (SECOND, MINUTE):
            bad = (val < 0 or val > 59 or end > 59) and val != ALL_SPEC
        elif type_ == HOUR:
            bad = (val < 0 or val > 23 or end > 23) and val != ALL_SPEC
        elif type_ == DAY_OF_MONTH:
            bad = (val < 1 or val > 31 or end > 31) and val not in (ALL_SPEC, NO_SPEC)
        elif type_ == MONTH:
            bad = (val < 1 or val > 12 or end > 12) and val != ALL_SPEC
        elif type_ == DAY_OF_WEEK:
            bad = (val == 0 or val > 7 or end > 7) and val not in (ALL_SPEC, NO_SPEC)
        if bad:
            shown = _bad_value(val, end, type_)
            where = "" if s == shown else f" (in {s!r})"
            raise _Fail(f"'{shown}' is out of range {_RANGE_TEXT[type_]}{where}")

        if (incr == 0 or incr == -1) and val != ALL_SPEC:
            st.add(val if val != -1 else NO_SPEC)
            return

        start_at = val
        stop_at = end
        if val == ALL_SPEC and incr <= 0:
            incr = 1
            st.add(ALL_SPEC)  # marker, but also fill values
        if type_ in (SECOND, MINUTE):
            lo, hi = 0, 59
        elif type_ == HOUR:
            lo, hi = 0, 23
        elif type_ == DAY_OF_MONTH:
            lo, hi = 1, 31
        elif type_ == MONTH:
            lo, hi = 1, 12
        elif type_ == DAY_OF_WEEK:
            lo, hi = 1, 7
        else:
            lo, hi = 1970, MAX_YEAR
        if stop_at == -1:
            stop_at = hi
        if start_at == -1 or start_at == ALL_SPEC:
            start_at = lo
        mx = -1
        if stop_at < start_at:
            if type_ == YEAR:
                raise _Fail("start year must be less than stop year")
            mx = {
                SECOND: 60,
                MINUTE: 60,
                HOUR: 24,
                MONTH: 12,
                DAY_OF_WEEK: 7,
                DAY_OF_MONTH: 31,
            }[type_]
            stop_at += mx
        if (
            incr <= 0
        ):  # pragma: no cover - Java would loop forever; unreachable from parser
            raise _Fail(f"{s!r}: increment must be positive")
        for k in range(start_at, stop_at + 1, incr):
            if mx == -1:
                st.add(k)
            else:
                k2 = k % mx
                if k2 == 0 and type_ in (MONTH, DAY_OF_WEEK, DAY_OF_MONTH):
                    k2 = mx
                st.add(k2)


def _bad_value(val: int, end: int, type_: int) -> str:
    lo, hi = {
        SECOND: (0, 59),
        MINUTE: (0, 59),
        HOUR: (0, 23),
        DAY_OF_MONTH: (1, 31),
        MONTH: (1, 12),
        DAY_OF_WEEK: (1, 7),
    }[type_]
    if val < lo or val > hi:
        return str(val)
    return str(end)


def parse_quartz(expression: str) -> ParsedCron:
    """``new CronExpression(expression)``: parse or raise :class:`QuartzSyntaxError`."""
    if expression is None:
        raise TypeError("expression cannot be None")
    return _Parser(expression.upper()).build()
