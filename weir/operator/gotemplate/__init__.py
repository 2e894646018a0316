"""Go's ``text/template`` in Python: lexer, parser and evaluator that behave as Go's do
(trim markers, pipelines, variables, ``if/else if/with/range/break/continue``,
``define/template/block``, Go's truthiness, comparison rules and ``missingkey`` option,
errors that point at ``name:line:column``), with bounds on output, steps and depth.

    >>> from weir.operator.gotemplate import Template
    >>> Template("t", delims=("<<", ">>")).parse("<< .a | printf \"%05d\" >>").execute({"a": 42})
    '00042'

:mod:`weir.operator.gotemplate.sprig` adds the function set the Flux Operator offers to
ResourceSet templates (slim-sprig's hermetic functions, ``slugify``, ``toYaml``).
"""

from weir.operator.gotemplate.errors import (
    FuncError,
    TemplateError,
    TemplateExecError,
    TemplateLimitError,
    TemplateSyntaxError,
)
from weir.operator.gotemplate.funcs import Func, gofunc
from weir.operator.gotemplate.template import Limits, Template
from weir.operator.gotemplate.values import Int64

__all__ = [
    "Func",
    "FuncError",
    "Int64",
    "Limits",
    "Template",
    "TemplateError",
    "TemplateExecError",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "gofunc",
]
