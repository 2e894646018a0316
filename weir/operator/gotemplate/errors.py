"""Errors of the template engine, with Go's wording and the position they point at."""

from __future__ import annotations

from weir.errors import ConfigError


class TemplateError(ConfigError):
    """A template that does not parse or does not execute.

    ``str(error)`` is Go's message (``template: name:3:14: executing "name" at <.x>: ...``);
    ``name``, ``line`` and ``column`` (1-based, in bytes like Go; 0 when unknown) locate it.
    """

    def __init__(self, message: str, *, name: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.name = name
        self.line = line
        self.column = column


class TemplateSyntaxError(TemplateError):
    """The template text does not parse (Go's parse errors name the line only)."""


class TemplateExecError(TemplateError):
    """Executing the template failed (missing key, wrong type, a function's error)."""


class TemplateLimitError(TemplateExecError):
    """The template exceeded a bound: output size, steps, nesting or value size."""


class FuncError(Exception):
    """Raised by a template function; becomes ``error calling <name>: <message>``."""
