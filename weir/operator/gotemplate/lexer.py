"""The lexer of Go's ``text/template``: the same items, trim markers, comments and errors.

Positions are offsets into the template text (characters); :func:`location` turns one into
Go's ``line:column`` (column counted in UTF-8 bytes from the start of the line, like Go).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from weir.operator.gotemplate.errors import TemplateLimitError


class T(enum.IntEnum):
    """Item types (Go's ``itemType``); keywords sort after ``KEYWORD``."""

    ERROR = 0
    BOOL = enum.auto()
    CHAR = enum.auto()
    CHAR_CONSTANT = enum.auto()
    COMMENT = enum.auto()
    COMPLEX = enum.auto()
    ASSIGN = enum.auto()
    DECLARE = enum.auto()
    EOF = enum.auto()
    FIELD = enum.auto()
    IDENTIFIER = enum.auto()
    LEFT_DELIM = enum.auto()
    LEFT_PAREN = enum.auto()
    NUMBER = enum.auto()
    PIPE = enum.auto()
    RAW_STRING = enum.auto()
    RIGHT_DELIM = enum.auto()
    RIGHT_PAREN = enum.auto()
    SPACE = enum.auto()
    STRING = enum.auto()
    TEXT = enum.auto()
    VARIABLE = enum.auto()
    KEYWORD = enum.auto()
    BLOCK = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DOT = enum.auto()
    DEFINE = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    IF = enum.auto()
    NIL = enum.auto()
    RANGE = enum.auto()
    TEMPLATE = enum.auto()
    WITH = enum.auto()


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

SPACE_CHARS = " \t\r\n"
TRIM_MARKER = "-"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
EOF_CHAR = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One lexed item: type, position (character offset), text and line (1-based)."""

    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _go_quote(self.val[:10]) + "..."
        return _go_quote(self.val)


def _go_quote(s: str) -> str:
    from weir.operator.gotemplate.gofmt import quote  # noqa: PLC0415

    return quote(s)


def _is_space(c: str) -> bool:
    return c != "" and c in SPACE_CHARS


def _is_alnum(c: str) -> bool:
    return c == "_" or (c != "" and (c.isalpha() or (c.isdigit() and c.isdecimal())))


def _format_rune(c: str) -> str:
    """Go's ``%#U``: ``U+0023 '#'``."""
    code = ord(c)
    text = f"U+{code:04X}"
    from weir.operator.gotemplate.gofmt import _is_print  # noqa: PLC0415

    if _is_print(c):
        text += f" '{c}'"
    return text


def lex(
    text: str, left: str = "{{", right: str = "}}", *, max_items: int = 1_000_000
) -> list[Item]:
    """All items of ``text``, ending with EOF or an ERROR item (Go stops at the first error)."""
    return _Lexer(text, left or "{{", right or "}}", max_items).run()


class _Lexer:
    def __init__(self, text: str, left: str, right: str, max_items: int) -> None:
        self.input = text
        self.left = left
        self.right = right
        self.trim_right = " " + TRIM_MARKER  # checked together with the delimiter
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.items: list[Item] = []
        self.max_items = max_items

    # ----------------------------------------------------------------- helpers
    def next(self) -> str:
        if self.pos >= len(self.input):
            self.pos = len(self.input) + 1  # so that backup() returns to the end
            return EOF_CHAR
        c = self.input[self.pos]
        self.pos += 1
        if c == "\n":
            self.line += 1
        return c

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else EOF_CHAR

    def backup(self) -> None:
        if self.pos > len(self.input):
            self.pos = len(self.input)
            return
        self.pos -= 1
        if self.input[self.pos] == "\n":
            self.line -= 1

    def emit(self, typ: T) -> None:
        self.items.append(Item(typ, self.start, self.input[self.start : self.pos], self.start_line))
        if len(self.items) > self.max_items:
            raise TemplateLimitError(f"template has more than {self.max_items} items")
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def errorf(self, message: str) -> None:
        self.items.append(Item(T.ERROR, self.start, message, self.start_line))

    def accept(self, valid: str) -> bool:
        if self.peek() != "" and self.peek() in valid:
            self.next()
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.peek() != "" and self.peek() in valid:
            self.next()

    def at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos :]
        if (
            len(rest) >= 2
            and _is_space(rest[0])
            and rest[1] == TRIM_MARKER
            and rest[2:].startswith(self.right)
        ):
            return True, True
        if rest.startswith(self.right):
            return True, False
        return False, False

    def at_terminator(self) -> bool:
        c = self.peek()
        if _is_space(c) or c == EOF_CHAR:
            return True
        if c in ".,|:)(":
            return True
        return c == self.right[0]

    # ----------------------------------------------------------------- states
    def run(self) -> list[Item]:
        state: Any = self.lex_text
        while state is not None:
            state = state()
        return self.items

    def lex_text(self) -> Any:
        x = self.input.find(self.left, self.pos)
        if x >= 0:
            if x > self.pos:
                self.pos = x
                trim = 0
                delim_end = self.pos + len(self.left)
                if _has_left_trim(self.input[delim_end:]):
                    segment = self.input[self.start : self.pos]
                    trim = len(segment) - len(segment.rstrip(SPACE_CHARS))
                self.pos -= trim
                self.line += self.input.count("\n", self.start, self.pos)
                item = Item(T.TEXT, self.start, self.input[self.start : self.pos], self.start_line)
                self.start = self.pos
                self.start_line = self.line
                self.pos += trim
                self.ignore()
                if item.val:
                    self.items.append(item)
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            self.items.append(Item(T.TEXT, self.start, self.input[self.start :], self.start_line))
            self.start = self.pos
            self.start_line = self.line
        self.items.append(Item(T.EOF, self.pos, "", self.line))
        return None

    def lex_left_delim(self) -> Any:
        self.pos += len(self.left)
        trim = _has_left_trim(self.input[self.pos :])
        after = 2 if trim else 0
        if self.input.startswith(LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        item = Item(T.LEFT_DELIM, self.start, self.left, self.start_line)
        self.pos += after
        self.ignore()
        self.items.append(item)
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self) -> Any:
        self.pos += len(LEFT_COMMENT)
        x = self.input.find(RIGHT_COMMENT, self.pos)
        if x < 0:
            self.errorf("unclosed comment")
            return None
        self.line += self.input.count("\n", self.pos, x + len(RIGHT_COMMENT))
        self.pos = x + len(RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            self.errorf("comment ends before closing delimiter")
            return None
        if trim:
            self.pos += 2
        self.pos += len(self.right)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> Any:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(self.right)
        self.emit(T.RIGHT_DELIM)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
            self.ignore()
        return self.lex_text

    def lex_inside_action(self) -> Any:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.errorf("unclosed left paren")
            return None
        c = self.next()
        if c == EOF_CHAR:
            self.errorf("unclosed action")
            return None
        if _is_space(c):
            self.backup()
            return self.lex_space
        if c == "=":
            self.emit(T.ASSIGN)
        elif c == ":":
            if self.next() != "=":
                self.errorf("expected :=")
                return None
            self.emit(T.DECLARE)
        elif c == "|":
            self.emit(T.PIPE)
        elif c == '"':
            return self.lex_quote
        elif c == "`":
            return self.lex_raw_quote
        elif c == "$":
            return self.lex_variable
        elif c == "'":
            return self.lex_char
        elif c == "." and self.pos < len(self.input) and not self.input[self.pos].isdigit():
            return self.lex_field
        elif c in "+-." or ("0" <= c <= "9"):
            self.backup()
            return self.lex_number
        elif _is_alnum(c):
            self.backup()
            return self.lex_identifier
        elif c == "(":
            self.paren_depth += 1
            self.emit(T.LEFT_PAREN)
        elif c == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.errorf("unexpected right paren")
                return None
            self.emit(T.RIGHT_PAREN)
        elif ord(c) < 0x80 and c.isprintable():
            self.emit(T.CHAR)
        else:
            self.errorf(f"unrecognized character in action: {_format_rune(c)}")
            return None
        return self.lex_inside_action

    def lex_space(self) -> Any:
        spaces = 0
        while _is_space(self.peek()):
            self.next()
            spaces += 1
        rest = self.input[self.pos - 1 :]
        if rest.startswith(self.trim_right) and rest[2:].startswith(self.right):
            self.backup()
            if spaces == 1:
                return self.lex_right_delim
        self.emit(T.SPACE)
        return self.lex_inside_action

    def lex_identifier(self) -> Any:
        while True:
            c = self.next()
            if _is_alnum(c):
                continue
            self.backup()
            word = self.input[self.start : self.pos]
            if not self.at_terminator():
                self.errorf(f"bad character {_format_rune(c)}")
                return None
            if word in KEYWORDS and KEYWORDS[word] > T.KEYWORD:
                self.emit(KEYWORDS[word])
            elif word.startswith("."):
                self.emit(T.FIELD)
            elif word in ("true", "false"):
                self.emit(T.BOOL)
            else:
                self.emit(T.IDENTIFIER)
            return self.lex_inside_action

    def lex_field(self) -> Any:
        return self._field_or_variable(T.FIELD)

    def lex_variable(self) -> Any:
        if self.at_terminator():
            self.emit(T.VARIABLE)
            return self.lex_inside_action
        return self._field_or_variable(T.VARIABLE)

    def _field_or_variable(self, typ: T) -> Any:
        if self.at_terminator():
            self.emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return self.lex_inside_action
        c = ""
        while True:
            c = self.next()
            if not _is_alnum(c):
                self.backup()
                break
        if not self.at_terminator():
            self.errorf(f"bad character {_format_rune(c)}")
            return None
        self.emit(typ)
        return self.lex_inside_action

    def lex_char(self) -> Any:
        while True:
            c = self.next()
            if c == "\\":
                c = self.next()
                if c not in (EOF_CHAR, "\n"):
                    continue
            if c in (EOF_CHAR, "\n"):
                self.errorf("unterminated character constant")
                return None
            if c == "'":
                break
        self.emit(T.CHAR_CONSTANT)
        return self.lex_inside_action

    def lex_number(self) -> Any:
        if not self._scan_number():
            self.errorf(f"bad number syntax: {_go_quote(self.input[self.start : self.pos])}")
            return None
        if self.peek() in ("+", "-"):
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                self.errorf(f"bad number syntax: {_go_quote(self.input[self.start : self.pos])}")
                return None
            self.emit(T.COMPLEX)
        else:
            self.emit(T.NUMBER)
        return self.lex_inside_action

    def _scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> Any:
        while True:
            c = self.next()
            if c == "\\":
                c = self.next()
                if c not in (EOF_CHAR, "\n"):
                    continue
            if c in (EOF_CHAR, "\n"):
                self.errorf("unterminated quoted string")
                return None
            if c == '"':
                break
        self.emit(T.STRING)
        return self.lex_inside_action

    def lex_raw_quote(self) -> Any:
        while True:
            c = self.next()
            if c == EOF_CHAR:
                self.errorf("unterminated raw quoted string")
                return None
            if c == "`":
                break
        self.emit(T.RAW_STRING)
        return self.lex_inside_action


def _has_left_trim(s: str) -> bool:
    return len(s) >= 2 and s[0] == TRIM_MARKER and _is_space(s[1])


def location(text: str, pos: int) -> tuple[int, int]:
    """Go's ``line:column`` of a position: line 1-based, column in bytes from the line start
    (0-based, as Go's ``ErrorContext`` counts; on the first line the offset itself)."""
    before = text[:pos]
    line = 1 + before.count("\n")
    last = before.rfind("\n")
    column = len(before[last + 1 :].encode()) if last >= 0 else len(before.encode())
    return line, column
