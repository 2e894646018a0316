"""Go's ``fmt`` for the values templates see: ``%v`` printing, ``Sprint``, ``Sprintln`` and
``Sprintf`` with flags, width, precision and Go's ``%!verb(type=value)`` error forms.

Every function takes ``limit``: the largest string it may build (a hostile width or a huge
value raises :class:`~weir.operator.gotemplate.errors.TemplateLimitError` instead of
exhausting memory).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from weir.operator.gotemplate.errors import TemplateLimitError
from weir.operator.gotemplate.values import GoTime, Uint8, go_type

MAX_DEPTH = 100
_WIDTH_MAX = 1_000_000  # Go's fmt refuses larger widths and precisions


class _Out:
    """A string builder that refuses to grow past ``limit`` characters."""

    __slots__ = ("limit", "parts", "size")

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def add(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            raise TemplateLimitError(f"formatted value exceeds the size limit ({self.limit})")
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


# ----------------------------------------------------------------------------- numbers
def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(f)`` and the decimal exponent of the first one."""
    d = Decimal(repr(abs(f)))
    _, digits, exp = d.as_tuple()
    text = "".join(map(str, digits)).lstrip("0") or "0"
    if text == "0":
        return "0", 0
    assert isinstance(exp, int)
    stripped = text.rstrip("0")
    point = len(text) + exp  # position of the decimal point after the digits
    return stripped, point - 1


def _exp_text(exp: int) -> str:
    sign = "-" if exp < 0 else "+"
    return f"{sign}{abs(exp):02d}"


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """``strconv.FormatFloat(f, verb, prec, 64)`` for verbs e, E, f, F, g, G."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = math.copysign(1.0, f) < 0
    lower = verb.lower()
    if lower == "g":
        if prec == -1:
            digits, exp = _shortest(f)
            eprec = 6
            use_e = exp < -4 or exp >= eprec
            if use_e:
                mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
                body = f"{mant}{'e' if verb == 'g' else 'E'}{_exp_text(exp)}"
            elif exp < 0:
                body = "0." + "0" * (-exp - 1) + digits
            else:
                whole = digits.ljust(exp + 1, "0")
                body = whole[: exp + 1] + ("." + whole[exp + 1 :] if len(whole) > exp + 1 else "")
            return ("-" if neg else "") + body
        p = prec or 1
        body = f"{abs(f):.{p - 1}{'e' if verb == 'g' else 'E'}}"
        mant, _, e = body.partition("e" if verb == "g" else "E")
        exp = int(e)
        digits = mant.replace(".", "").rstrip("0") or "0"
        eprec = p
        if eprec > len(digits) and len(digits) >= exp + 1:
            eprec = len(digits)
        if exp < -4 or exp >= eprec:
            m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            return (
                ("-" if neg else "")
                + f"{m}{verb.replace('g', 'e').replace('G', 'E')}"
                + (_exp_text(exp))
            )
        decimals = max(len(digits) - exp - 1, 0)
        return ("-" if neg else "") + f"{abs(f):.{decimals}f}"
    if lower == "e":
        p = 6 if prec < 0 else prec
        if prec < 0:
            digits, exp = _shortest(f)
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        else:
            body = f"{abs(f):.{p}e}"
            mant, _, e = body.partition("e")
            exp = int(e)
        return ("-" if neg else "") + f"{mant}{verb}{_exp_text(exp)}"
    p = 6 if prec < 0 else prec
    return ("-" if neg else "") + f"{abs(f):.{p}f}"


# ----------------------------------------------------------------------------- strings
def _is_print(ch: str) -> bool:
    """Go's ``unicode.IsPrint``: letters, marks, numbers, punctuation, symbols, ASCII space."""
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def quote(s: str, *, ascii_only: bool = False) -> str:
    """``strconv.Quote`` (``QuoteToASCII`` with ``ascii_only``)."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif (code < 0x80 or not ascii_only) and _is_print(ch):
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def quote_rune(code: int) -> str:
    """``strconv.QuoteRune``."""
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    ch = chr(code)
    if ch == "'":
        return "'\\''"
    if ch == "\\":
        return "'\\\\'"
    if _is_print(ch):
        return f"'{ch}'"
    inner = quote(ch)[1:-1]
    return f"'{inner}'"


# ----------------------------------------------------------------------------- %v
def print_value(value: Any, limit: int, *, top: bool = True) -> str:
    """``fmt.Sprint(value)`` (``%v``); ``nil`` prints ``<nil>``."""
    out = _Out(limit)
    _print_v(out, value, 0)
    return out.text()


def _print_v(out: _Out, value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TemplateLimitError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.add("<nil>")
    elif isinstance(value, bool):
        out.add("true" if value else "false")
    elif isinstance(value, int):
        out.add(str(int(value)))
    elif isinstance(value, float):
        out.add(format_float(value))
    elif isinstance(value, str):
        out.add(value)
    elif isinstance(value, list):
        out.add("[")
        for i, item in enumerate(value):
            if i:
                out.add(" ")
            _print_v(out, item, depth + 1)
        out.add("]")
    elif isinstance(value, dict):
        out.add("map[")
        for i, key in enumerate(sorted(value)):
            if i:
                out.add(" ")
            out.add(str(key))
            out.add(":")
            _print_v(out, value[key], depth + 1)
        out.add("]")
    elif isinstance(value, GoTime):
        out.add(str(value))
    else:
        out.add(str(value))


def sprint(args: Sequence[Any], limit: int) -> str:
    """``fmt.Sprint``: spaces between operands when neither is a string."""
    out = _Out(limit)
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.add(" ")
        _print_v(out, arg, 0)
    return out.text()


def sprintln(args: Sequence[Any], limit: int) -> str:
    """``fmt.Sprintln``: spaces between all operands and a newline."""
    out = _Out(limit)
    for i, arg in enumerate(args):
        if i:
            out.add(" ")
        _print_v(out, arg, 0)
    out.add("\n")
    return out.text()


# ----------------------------------------------------------------------------- Sprintf
class _Spec:
    __slots__ = ("minus", "plus", "prec", "sharp", "space", "verb", "wid", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.wid: int | None = None
        self.prec: int | None = None
        self.verb = "v"


def _pad(spec: _Spec, text: str, *, numeric: bool = False) -> str:
    if spec.wid is None or len(text) >= spec.wid:
        return text
    fill = spec.wid - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero and numeric:
        sign = text[0] if text and text[0] in "+- " else ""
        body = text[len(sign) :]
        return sign + "0" * fill + body
    if spec.zero and not numeric:
        return "0" * fill + text
    return " " * fill + text


def _fmt_int(spec: _Spec, n: int) -> str | None:
    verb = spec.verb
    neg = n < 0
    a = -n if neg else n
    if verb in ("v", "d"):
        body = str(a)
    elif verb == "b":
        body = format(a, "b")
    elif verb in ("o", "O"):
        body = format(a, "o")
    elif verb == "x":
        body = format(a, "x")
    elif verb == "X":
        body = format(a, "X")
    elif verb == "c":
        return _pad(spec, chr(n) if 0 <= n <= 0x10FFFF else "\ufffd")
    elif verb == "q":
        return _pad(spec, quote_rune(n))
    elif verb == "U":
        text = f"U+{n:04X}"
        if spec.sharp and 0 <= n <= 0x10FFFF and _is_print(chr(n)):
            text += f" '{chr(n)}'"
        return _pad(spec, text)
    else:
        return None
    if spec.prec is not None:
        body = body.rjust(spec.prec, "0") if spec.prec else ("" if a == 0 else body)
    if spec.sharp:
        body = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "") + body
    if verb == "O":
        body = "0o" + body
    sign = "-" if neg else ("+" if spec.plus else (" " if spec.space else ""))
    return _pad(spec, sign + body, numeric=spec.prec is None)


def _fmt_float(spec: _Spec, f: float) -> str | None:
    verb = spec.verb
    if verb not in "vfFeEgGbxX":
        return None
    if verb in "bxX":
        body = f.hex() if verb != "X" else f.hex().upper()
    else:
        go_verb = "g" if verb == "v" else verb
        prec = -1 if spec.prec is None else spec.prec
        if go_verb in "fFeE" and spec.prec is None:
            prec = 6
        body = format_float(f, "f" if go_verb == "F" else go_verb, prec)
    if spec.plus and not body.startswith("-") and body[:1] != "+":
        body = "+" + body
    elif spec.space and not body.startswith("-"):
        body = " " + body
    if body in ("+Inf", "-Inf", "NaN") or body[1:] in ("Inf", "NaN"):
        saved = spec.zero
        spec.zero = False
        try:
            return _pad(spec, body)
        finally:
            spec.zero = saved
    return _pad(spec, body, numeric=True)


def _fmt_str(spec: _Spec, s: str) -> str | None:
    verb = spec.verb
    if verb in ("v", "s"):
        text = s if spec.prec is None else s[: spec.prec]
        return _pad(spec, text)
    if verb == "q":
        text = s if spec.prec is None else s[: spec.prec]
        if spec.sharp and "`" not in text and all(_is_print(c) or c == "\t" for c in text):
            return _pad(spec, f"`{text}`")
        return _pad(spec, quote(text, ascii_only=spec.plus))
    if verb in ("x", "X"):
        data = s.encode()
        if spec.prec is not None:
            data = data[: spec.prec]
        digits = "%02x" if verb == "x" else "%02X"
        sep = " " if spec.space else ""
        prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
        if spec.space:
            text = sep.join(prefix + digits % b for b in data)
        else:
            text = prefix + "".join(digits % b for b in data)
        return _pad(spec, text)
    return None


def _fmt_arg(out: _Out, spec: _Spec, arg: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TemplateLimitError(f"value nested deeper than {MAX_DEPTH} levels")
    verb = spec.verb
    if verb == "T":
        out.add(_pad(spec, go_type(arg)))
        return
    if arg is None:
        out.add(_pad(spec, "<nil>") if verb == "v" else f"%!{verb}(<nil>)")
        return
    text: str | None
    if isinstance(arg, bool):
        text = _pad(spec, "true" if arg else "false") if verb in ("v", "t") else None
    elif isinstance(arg, int):
        text = _fmt_int(spec, int(arg))
        if verb == "v" and isinstance(arg, Uint8):
            text = _fmt_int(spec, int(arg))
    elif isinstance(arg, float):
        text = _fmt_float(spec, arg)
    elif isinstance(arg, str):
        text = _fmt_str(spec, arg)
    elif isinstance(arg, list):
        if verb in ("s", "q", "x", "X") and arg and all(isinstance(b, Uint8) for b in arg):
            text = _fmt_str(spec, bytes(arg).decode(errors="replace"))
        else:
            out.add("[")
            for i, item in enumerate(arg):
                if i:
                    out.add(" ")
                _fmt_arg(out, spec, item, depth + 1)
            out.add("]")
            return
    elif isinstance(arg, dict):
        out.add("map[")
        for i, key in enumerate(sorted(arg)):
            if i:
                out.add(" ")
            _fmt_arg(out, spec, key, depth + 1)
            out.add(":")
            _fmt_arg(out, spec, arg[key], depth + 1)
        out.add("]")
        return
    elif isinstance(arg, GoTime):
        text = _fmt_str(spec, str(arg)) if verb in ("v", "s", "q") else None
    else:
        text = _fmt_str(spec, str(arg)) if verb in ("v", "s") else None
    if text is None:
        out.add(f"%!{verb}({go_type(arg)}=")
        _print_v(out, arg, depth + 1)
        out.add(")")
    else:
        out.add(text)


def _parse_num(fmt: str, i: int) -> tuple[int | None, int]:
    start = i
    while i < len(fmt) and fmt[i].isdigit() and fmt[i].isascii():
        i += 1
        if i - start > 7:
            return None, i
    if i == start:
        return None, i
    return int(fmt[start:i]), i


def sprintf(fmt: str, args: Sequence[Any], limit: int) -> str:
    """``fmt.Sprintf`` with Go's verbs, flags, ``*`` widths, ``[n]`` indexes and error forms."""
    out = _Out(limit)
    argnum = 0
    reordered = False
    i = 0
    end = len(fmt)
    while i < end:
        j = fmt.find("%", i)
        if j < 0:
            out.add(fmt[i:])
            break
        if j > i:
            out.add(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < end:  # flags
            c = fmt[i]
            if c == "#":
                spec.sharp = True
            elif c == "0":
                spec.zero = not spec.minus
            elif c == "+":
                spec.plus = True
            elif c == "-":
                spec.minus = True
                spec.zero = False
            elif c == " ":
                spec.space = True
            else:
                break
            i += 1

        def arg_index(pos: int, current: int) -> tuple[int, int, bool]:
            """``[n]`` before a width, precision or verb: (new argnum, new pos, ok)."""
            if pos >= end or fmt[pos] != "[":
                return current, pos, True
            close = fmt.find("]", pos)
            if close < 0:
                return current, pos, False
            n, after = _parse_num(fmt, pos + 1)
            if n is None or after != close or n < 1:
                return current, close + 1, False
            return n - 1, close + 1, True

        argnum, i, ok_index = arg_index(i, argnum)
        reordered = reordered or not ok_index or (i > 0 and fmt[i - 1 : i] == "]")
        bad_width = bad_prec = False
        if i < end and fmt[i] == "*":
            i += 1
            if argnum < len(args) and isinstance(args[argnum], int):
                w = int(args[argnum])
                if abs(w) > _WIDTH_MAX:
                    bad_width = True
                else:
                    spec.wid = abs(w)
                    if w < 0:
                        spec.minus = True
                        spec.zero = False
            else:
                bad_width = True
            argnum += 1
        else:
            wid, i = _parse_num(fmt, i)
            if wid is not None:
                if wid > _WIDTH_MAX:
                    bad_width = True
                else:
                    spec.wid = wid
        if i < end and fmt[i] == ".":
            i += 1
            argnum, i, _ = arg_index(i, argnum)
            if i < end and fmt[i] == "*":
                i += 1
                if argnum < len(args) and isinstance(args[argnum], int):
                    p = int(args[argnum])
                    if p < 0 or p > _WIDTH_MAX:
                        bad_prec = True
                    else:
                        spec.prec = p
                else:
                    bad_prec = True
                argnum += 1
            else:
                prec, i = _parse_num(fmt, i)
                spec.prec = prec if prec is not None else 0
                if spec.prec > _WIDTH_MAX:
                    bad_prec = True
                    spec.prec = None
        argnum, i, ok3 = arg_index(i, argnum)
        if bad_width:
            out.add("%!(BADWIDTH)")
        if bad_prec:
            out.add("%!(BADPREC)")
        if i >= end:
            out.add("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        spec.verb = verb
        if verb == "%":
            out.add("%")
            continue
        if not (ok_index and ok3):
            out.add(f"%!{verb}(BADINDEX)")
            continue
        if argnum >= len(args):
            out.add(f"%!{verb}(MISSING)")
            continue
        if verb == "w":
            verb = spec.verb = "v"
        _fmt_arg(out, spec, args[argnum], 0)
        argnum += 1
    if not reordered and argnum < len(args):
        out.add("%!(EXTRA ")
        for k, arg in enumerate(args[argnum:]):
            if k:
                out.add(", ")
            if arg is None:
                out.add("<nil>")
            else:
                out.add(go_type(arg) + "=")
                _print_v(out, arg, 0)
        out.add(")")
    return out.text()
