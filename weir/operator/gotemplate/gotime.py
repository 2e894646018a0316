"""Go's ``time`` as templates use it: layouts (``2006-01-02T15:04:05Z07:00``), durations, and
the methods of ``time.Time`` a template may call (``.Unix``, ``.Format``, ``.UTC``...)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from weir.operator.gotemplate.errors import FuncError
from weir.operator.gotemplate.values import GoTime, Int64, Method

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# longest first, as Go's nextStdChunk matches
_TOKENS = [
    "January",
    "Monday",
    "Jan",
    "Mon",
    "MST",
    "2006",
    "-070000",
    "-07:00:00",
    "-0700",
    "-07:00",
    "-07",
    "Z070000",
    "Z07:00:00",
    "Z0700",
    "Z07:00",
    "Z07",
    "01",
    "02",
    "_2",
    "002",
    "__2",
    "03",
    "04",
    "05",
    "06",
    "15",
    "PM",
    "pm",
    "1",
    "2",
    "3",
    "4",
    "5",
]
_FRACTION = re.compile(r"[.,](0+|9+)(?![0-9])")


def _chunks(layout: str) -> list[tuple[str, str]]:
    """Split a layout into ("lit", text) and ("std", token) chunks."""
    out: list[tuple[str, str]] = []
    i = 0
    lit = ""
    while i < len(layout):
        m = _FRACTION.match(layout, i)
        if m and i > 0 and layout[i - 1].isdigit():
            out.append(("lit", lit))
            lit = ""
            out.append(("frac", m.group(0)))
            i = m.end()
            continue
        for tok in _TOKENS:
            if layout.startswith(tok, i):
                if tok in ("Jan", "Mon") and layout[i + 3 : i + 4].islower():
                    continue  # "Janet" is not a month
                out.append(("lit", lit))
                lit = ""
                out.append(("std", tok))
                i += len(tok)
                break
        else:
            lit += layout[i]
            i += 1
    out.append(("lit", lit))
    return [c for c in out if c != ("lit", "")]


def _zone(offset: int, colon: bool, seconds: bool, z: bool, short: bool = False) -> str:
    if z and offset == 0:
        return "Z"
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    h, rem = divmod(offset, 3600)
    m, s = divmod(rem, 60)
    if short:
        return f"{sign}{h:02d}"
    text = f"{sign}{h:02d}{':' if colon else ''}{m:02d}"
    if seconds:
        text += f"{':' if colon else ''}{s:02d}"
    return text


def format_time(t: GoTime, layout: str) -> str:
    """``t.Format(layout)``."""
    d = t.moment
    utcoffset = d.utcoffset()
    offset = int(utcoffset.total_seconds()) if utcoffset is not None else 0
    out: list[str] = []
    for kind, tok in _chunks(layout):
        if kind == "lit":
            out.append(tok)
            continue
        if kind == "frac":
            digits = len(tok) - 1
            frac = f"{t.nanos:09d}"[:digits]
            if tok[1] == "9":
                frac = frac.rstrip("0")
                out.append((tok[0] + frac) if frac else "")
            else:
                out.append(tok[0] + frac)
            continue
        hour12 = d.hour % 12 or 12
        value = {
            "January": _MONTHS[d.month - 1],
            "Jan": _MONTHS[d.month - 1][:3],
            "Monday": _DAYS[d.weekday()],
            "Mon": _DAYS[d.weekday()][:3],
            "MST": (d.tzname() or "UTC")
            if d.tzinfo not in (None, UTC) and d.tzname()
            else ("UTC" if offset == 0 else _zone(offset, False, False, False, short=True)),
            "2006": f"{d.year:04d}",
            "06": f"{d.year % 100:02d}",
            "01": f"{d.month:02d}",
            "1": str(d.month),
            "02": f"{d.day:02d}",
            "2": str(d.day),
            "_2": f"{d.day:2d}",
            "002": f"{d.timetuple().tm_yday:03d}",
            "__2": f"{d.timetuple().tm_yday:3d}",
            "15": f"{d.hour:02d}",
            "03": f"{hour12:02d}",
            "3": str(hour12),
            "04": f"{d.minute:02d}",
            "4": str(d.minute),
            "05": f"{d.second:02d}",
            "5": str(d.second),
            "PM": "PM" if d.hour >= 12 else "AM",
            "pm": "pm" if d.hour >= 12 else "am",
            "-0700": _zone(offset, False, False, False),
            "-07:00": _zone(offset, True, False, False),
            "-07": _zone(offset, False, False, False, short=True),
            "-070000": _zone(offset, False, True, False),
            "-07:00:00": _zone(offset, True, True, False),
            "Z0700": _zone(offset, False, False, True),
            "Z07:00": _zone(offset, True, False, True),
            "Z07": _zone(offset, False, False, True, short=True),
            "Z070000": _zone(offset, False, True, True),
            "Z07:00:00": _zone(offset, True, True, True),
        }[tok]
        out.append(value)
    return "".join(out)


def parse_time(layout: str, value: str, tz: Any = UTC) -> GoTime:
    """``time.ParseInLocation(layout, value, tz)`` for the common layout elements."""
    fields: dict[str, Any] = {}
    pos = 0
    nanos = 0
    offset: int | None = None

    def fail() -> FuncError:
        return FuncError(f'parsing time "{value}" as "{layout}": cannot parse')

    def take_int(lo: int, hi: int) -> int:
        nonlocal pos
        m = re.compile(rf"[0-9]{{{lo},{hi}}}").match(value, pos)
        if not m:
            raise fail()
        pos = m.end()
        return int(m.group(0))

    for kind, tok in _chunks(layout):
        if kind == "lit":
            if not value.startswith(tok, pos):
                raise fail()
            pos += len(tok)
            continue
        if kind == "frac":
            m = re.compile(r"[.,]([0-9]+)").match(value, pos)
            if m:
                nanos = int(m.group(1)[:9].ljust(9, "0"))
                pos = m.end()
            elif tok[1] == "0":
                raise fail()
            continue
        if tok in ("2006",):
            fields["year"] = take_int(4, 4)
        elif tok == "06":
            y = take_int(2, 2)
            fields["year"] = y + (1900 if y >= 69 else 2000)
        elif tok in ("01", "1"):
            fields["month"] = take_int(1 if tok == "1" else 2, 2)
        elif tok in ("January", "Jan"):
            names = _MONTHS if tok == "January" else [m[:3] for m in _MONTHS]
            for i, name in enumerate(names):
                if value.startswith(name, pos):
                    fields["month"] = i + 1
                    pos += len(name)
                    break
            else:
                raise fail()
        elif tok in ("Monday", "Mon"):
            names = _DAYS if tok == "Monday" else [d[:3] for d in _DAYS]
            for name in names:
                if value.startswith(name, pos):
                    pos += len(name)
                    break
            else:
                raise fail()
        elif tok in ("02", "2", "_2"):
            if tok == "_2" and value[pos : pos + 1] == " ":
                pos += 1
            fields["day"] = take_int(1 if tok != "02" else 2, 2)
        elif tok in ("15",):
            fields["hour"] = take_int(1, 2)
        elif tok in ("03", "3"):
            fields["hour12"] = take_int(1 if tok == "3" else 2, 2)
        elif tok in ("04", "4"):
            fields["minute"] = take_int(1 if tok == "4" else 2, 2)
        elif tok in ("05", "5"):
            fields["second"] = take_int(1 if tok == "5" else 2, 2)
            m = re.compile(r"[.,]([0-9]+)").match(value, pos)
            if m:
                nanos = int(m.group(1)[:9].ljust(9, "0"))
                pos = m.end()
        elif tok in ("PM", "pm"):
            word = value[pos : pos + 2].upper()
            if word not in ("AM", "PM"):
                raise fail()
            fields["pm"] = word == "PM"
            pos += 2
        elif tok == "MST":
            m = re.compile(r"[A-Z]{3,5}|[+-][0-9]{2}").match(value, pos)
            if not m:
                raise fail()
            pos = m.end()
            if m.group(0) == "UTC" or m.group(0) == "GMT":
                offset = 0
        elif tok.lstrip("Z-").startswith("07"):
            if tok.startswith("Z") and value[pos : pos + 1] == "Z":
                pos += 1
                offset = 0
                continue
            m = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})?(?::?([0-9]{2}))?").match(value, pos)
            if not m:
                raise fail()
            pos = m.end()
            sign = -1 if m.group(1) == "-" else 1
            offset = sign * (
                int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
            )
        else:
            raise fail()
    if pos != len(value):
        raise FuncError(f'parsing time "{value}": extra text: "{value[pos:]}"')
    hour = fields.get("hour", 0)
    if "hour12" in fields:
        hour = fields["hour12"] % 12 + (12 if fields.get("pm") else 0)
    zone = tz if offset is None else (UTC if offset == 0 else timezone(timedelta(seconds=offset)))
    try:
        moment = datetime(
            fields.get("year", 0) or 1,
            fields.get("month", 1),
            fields.get("day", 1),
            hour,
            fields.get("minute", 0),
            fields.get("second", 0),
            tzinfo=zone,
        )
    except ValueError as e:
        raise FuncError(f'parsing time "{value}": {e}') from e
    return GoTime(moment, nanos)


def format_duration(nanos: int) -> str:
    """``time.Duration.String()``: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if nanos == 0:
        return "0s"
    neg = nanos < 0
    u = abs(nanos)
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                whole, frac = divmod(u, size)
                text = str(whole)
                if frac:
                    text += "." + f"{frac:0{len(str(size)) - 1}d}".rstrip("0")
                return ("-" if neg else "") + text + unit
    secs, frac_ns = divmod(u, 1_000_000_000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    text = f"{s}"
    if frac_ns:
        text += "." + f"{frac_ns:09d}".rstrip("0")
    text += "s"
    if h:
        text = f"{h}h{m}m{text}"
    elif m:
        text = f"{m}m{text}"
    return ("-" if neg else "") + text


def time_methods(t: GoTime) -> dict[str, Method]:
    """The methods of ``time.Time`` a template may call."""
    return {
        "Format": Method("Format", lambda layout: format_time(t, layout), ("string",)),
        "Unix": Method("Unix", lambda: Int64(t.unix()), ()),
        "UTC": Method("UTC", lambda: GoTime(t.moment.astimezone(UTC), t.nanos), ()),
        "Year": Method("Year", lambda: t.moment.year, ()),
        "Month": Method("Month", lambda: _MONTHS[t.moment.month - 1], ()),
        "Day": Method("Day", lambda: t.moment.day, ()),
        "Hour": Method("Hour", lambda: t.moment.hour, ()),
        "Minute": Method("Minute", lambda: t.moment.minute, ()),
        "Second": Method("Second", lambda: t.moment.second, ()),
        "Weekday": Method("Weekday", lambda: _DAYS[t.moment.weekday()], ()),
        "YearDay": Method("YearDay", lambda: t.moment.timetuple().tm_yday, ()),
        "String": Method("String", lambda: str(t), ()),
    }


_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """``time.ParseDuration``: nanoseconds of ``1h30m``, ``-1.5s``, ``300ms``."""
    s = text
    neg = False
    if s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise FuncError(f'time: invalid duration "{text}"')
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if not m or m.group(1) in ("", "."):
            raise FuncError(f'time: invalid duration "{text}"')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if total > 2**63 - 1:
        raise FuncError(f'time: invalid duration "{text}"')
    return -int(total) if neg else int(total)
