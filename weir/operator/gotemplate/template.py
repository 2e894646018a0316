"""Templates and their execution, following Go's ``text/template`` (``exec.go``) step by step:
the same evaluation order, the same node an error points at, the same messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from weir.operator.gotemplate import nodes as n
from weir.operator.gotemplate.errors import (
    FuncError,
    TemplateError,
    TemplateExecError,
    TemplateLimitError,
)
from weir.operator.gotemplate.funcs import (
    BUILTINS,
    GO_TYPE_NAMES,
    Budget,
    Func,
    reset_budget,
    set_budget,
)
from weir.operator.gotemplate.gofmt import print_value
from weir.operator.gotemplate.parser import Tree, parse
from weir.operator.gotemplate.values import GoTime, Int64, Method, TypedMap, go_type, is_true

MissingKey = Literal["default", "invalid", "zero", "error"]


@dataclass(frozen=True)
class Limits:
    """Bounds on one execution, so that a hostile template cannot hang or exhaust memory."""

    max_output: int = 16 * 1024 * 1024
    """Largest output (characters); also the largest string a function may build."""
    max_steps: int = 2_000_000
    """Most evaluation steps (nodes walked, commands and functions evaluated)."""
    max_depth: int = 50
    """Deepest ``{{template}}`` recursion."""
    max_items: int = 1_000_000
    """Longest list a function may build (``until``, ``seq``...)."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""No final value from a previous pipeline stage."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Template:
    """A set of named templates parsed with the same functions and delimiters.

    >>> t = Template("x").parse("{{range $i, $v := .}}{{$i}}={{$v}} {{end}}")
    >>> t.execute(["a", "b"])
    '0=a 1=b '
    """

    def __init__(
        self,
        name: str,
        *,
        funcs: Mapping[str, Func] | None = None,
        delims: tuple[str, str] = ("{{", "}}"),
        missingkey: MissingKey = "default",
        limits: Limits | None = None,
    ) -> None:
        self.name = name
        self.funcs: dict[str, Func] = dict(funcs or {})
        self.left, self.right = delims
        self.missingkey = missingkey
        self.limits = limits or Limits()
        self.trees: dict[str, Tree] = {}

    def has_function(self, name: str) -> bool:
        return name in self.funcs or name in BUILTINS

    def parse(self, text: str) -> Template:
        """Parse ``text`` as this template (and the templates it defines)."""
        try:
            parse(
                self.name,
                text,
                left=self.left,
                right=self.right,
                has_function=self.has_function,
                trees=self.trees,
            )
        except RecursionError as e:
            raise TemplateLimitError(
                f"template: {self.name}: template nested too deeply", name=self.name
            ) from e
        return self

    def lookup(self, name: str) -> Tree | None:
        return self.trees.get(name)

    def execute(self, data: Any = None, name: str | None = None) -> str:
        """Run the template (or the one named ``name``) on ``data`` and return its output."""
        tree = self.trees.get(name or self.name)
        if tree is None or tree.root is None:
            raise TemplateExecError(
                f'template: {name or self.name}: "{name or self.name}" is an incomplete '
                "or empty template",
                name=name or self.name,
            )
        state = _State(self, tree)
        token = set_budget(Budget(self.limits.max_output, self.limits.max_items))
        try:
            state.vars = [("$", data)]
            state.walk(data, False, tree.root)
        except RecursionError as e:
            raise TemplateLimitError(
                f"template: {tree.name}: template nested too deeply", name=tree.name
            ) from e
        finally:
            reset_budget(token)
        return "".join(state.out)


def _go_methods(receiver: Any) -> dict[str, Method]:
    if isinstance(receiver, GoTime):
        from weir.operator.gotemplate.gotime import time_methods  # noqa: PLC0415

        return time_methods(receiver)
    return {}


class _State:
    def __init__(self, tmpl: Template, tree: Tree) -> None:
        self.tmpl = tmpl
        self.tree = tree
        self.node: n.Node | None = None
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []
        self.size = 0
        self.depth = 0
        self.steps = 0

    # ----------------------------------------------------------------- errors
    def at(self, node: n.Node) -> None:
        self.node = node
        self.steps += 1
        if self.steps > self.tmpl.limits.max_steps:
            self.errorf(
                f"execution exceeded {self.tmpl.limits.max_steps} steps", TemplateLimitError
            )

    def errorf(self, message: str, cls: type[TemplateError] = TemplateExecError) -> None:
        name = self.tree.name
        if self.node is None:
            raise cls(f"template: {name}: {message}", name=self.tree.parse_name)
        line, col = self.tree.location(self.node)
        raise cls(
            f"template: {self.tree.parse_name}:{line}:{col}: executing "
            f'"{name}" at <{self.node}>: {message}',
            name=self.tree.parse_name,
            line=line,
            column=col + 1,
        )

    # ----------------------------------------------------------------- output
    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.tmpl.limits.max_output:
            self.errorf(
                f"output exceeds the limit of {self.tmpl.limits.max_output} bytes",
                TemplateLimitError,
            )
        self.out.append(text)

    # ----------------------------------------------------------------- variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n_: int, value: Any) -> None:
        name = self.vars[-n_][0]
        self.vars[-n_] = (name, value)

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        self.errorf(f"undefined variable: {name}")
        return None

    # ----------------------------------------------------------------- walk
    def walk(self, dot: Any, dot_iface: bool, node: n.Node) -> None:
        self.at(node)
        if isinstance(node, n.ActionNode):
            val = self.eval_pipeline(dot, dot_iface, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, n.TextNode):
            self.write(node.text)
        elif isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, dot_iface, child)
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, dot_iface, node)
        elif isinstance(node, (n.IfNode, n.WithNode)):
            self.walk_if_or_with(node, dot, dot_iface)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, dot_iface, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif isinstance(node, n.CommentNode):
            pass
        else:  # pragma: no cover - the parser makes no other nodes
            self.errorf(f"unknown node: {node}")

    def walk_if_or_with(self, node: n.BranchNode, dot: Any, dot_iface: bool) -> None:
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, dot_iface, node.pipe)
            if is_true(val):
                if isinstance(node, n.WithNode):
                    self.walk(val, False, node.list)
                else:
                    self.walk(dot, dot_iface, node.list)
            elif node.else_list is not None:
                self.walk(dot, dot_iface, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, dot_iface: bool, r: n.BranchNode) -> None:
        self.at(r)
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, dot_iface, r.pipe)
            inner = self.mark()
            decl = r.pipe.decl

            def one(index: Any, elem: Any, elem_iface: bool) -> bool:
                """One iteration; False when the body said {{break}}."""
                if decl:
                    if r.pipe.is_assign:
                        self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                    else:
                        self.set_top_var(1, elem)
                if len(decl) > 1:
                    if r.pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, index)
                try:
                    self.walk(elem, elem_iface, r.list)
                except _Continue:
                    pass
                except _Break:
                    return False
                finally:
                    self.pop(inner)
                return True

            if isinstance(val, list):
                if val:
                    iface = type(val) is list
                    for i, item in enumerate(list(val)):
                        if not one(i, item, iface):
                            break
                    return
            elif isinstance(val, dict):
                if val:
                    iface = not isinstance(val, TypedMap)
                    for key in sorted(val):
                        if not one(key, val[key], iface):
                            break
                    return
            elif isinstance(val, int) and not isinstance(val, bool):
                if len(decl) > 1:
                    self.errorf(
                        f"can't use {print_value(val, 64)} to iterate over more than one variable"
                    )
                if val > 0:
                    for i in range(int(val)):
                        item = Int64(i) if isinstance(val, Int64) else i
                        if not one(item, item, False):
                            break
                    return
            elif val is None:
                pass
            else:
                self.errorf(
                    f"range can't iterate over {print_value(val, self.tmpl.limits.max_output)}"
                )
            if r.else_list is not None:
                self.walk(dot, dot_iface, r.else_list)
        finally:
            self.pop(mark)

    def walk_template(self, dot: Any, dot_iface: bool, t: n.TemplateNode) -> None:
        self.at(t)
        tree = self.tmpl.lookup(t.name)
        if tree is None or tree.root is None:
            self.errorf(f'template "{t.name}" not defined')
            return
        if self.depth >= self.tmpl.limits.max_depth:
            self.errorf(
                f"exceeded maximum template depth ({self.tmpl.limits.max_depth})",
                TemplateLimitError,
            )
        value = self.eval_pipeline(dot, dot_iface, t.pipe) if t.pipe is not None else dot
        saved = (self.tree, self.vars, self.depth)
        self.tree = tree
        self.vars = [("$", value)]
        self.depth += 1
        try:
            self.walk(value, False, tree.root)
        finally:
            self.tree, self.vars, self.depth = saved

    # ----------------------------------------------------------------- evaluation
    def eval_pipeline(self, dot: Any, dot_iface: bool, pipe: n.PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.at(pipe)
        value = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, dot_iface, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.push(var.ident[0], value)
        return value

    def not_a_function(self, args: list[n.Node], final: Any) -> None:
        if len(args) > 1 or final is not MISSING:
            self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, dot_iface: bool, cmd: n.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            return self.eval_field_node(dot, dot_iface, first, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain_node(dot, dot_iface, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, dot_iface, first, cmd, cmd.args, final)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, dot_iface, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable_node(dot, dot_iface, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        self.errorf(f"can't evaluate command {first}")
        return None

    def ideal_constant(self, c: n.NumberNode) -> Any:
        self.at(c)
        text = c.text
        is_hex = len(text) > 2 and text[0] == "0" and text[1] in "xX"
        if (
            c.is_float
            and not is_hex
            and not text.startswith("'")
            and any(ch in text for ch in ".eEpP")
        ):
            return c.float_value
        if c.is_int:
            return c.int_value
        if c.is_uint:
            self.errorf(f"{text} overflows int")
        return None

    def eval_field_node(
        self, dot: Any, dot_iface: bool, field: n.FieldNode, args: list[n.Node], final: Any
    ) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, dot_iface, field, field.ident, args, final)

    def eval_chain_node(
        self, dot: Any, dot_iface: bool, chain: n.ChainNode, args: list[n.Node] | None, final: Any
    ) -> Any:
        self.at(chain)
        if isinstance(chain.node, n.NilNode):
            self.errorf(f"indirection through explicit nil in {chain}")
        pipe, iface = self.eval_arg_iface(dot, dot_iface, chain.node)
        return self.eval_field_chain(dot, pipe, iface, chain, chain.fields, args, final)

    def eval_variable_node(
        self,
        dot: Any,
        dot_iface: bool,
        var: n.VariableNode,
        args: list[n.Node] | None,
        final: Any,
    ) -> Any:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args or [var], final)
            return value
        return self.eval_field_chain(dot, value, False, var, var.ident[1:], args, final)

    def eval_field_chain(  # noqa: PLR0917 -- mirrors Go's signature
        self,
        dot: Any,
        receiver: Any,
        iface: bool,
        node: n.Node,
        ident: list[str],
        args: list[n.Node] | None,
        final: Any,
    ) -> Any:
        for name in ident[:-1]:
            receiver, iface = self.eval_field(dot, name, node, None, MISSING, receiver, iface)
        return self.eval_field(dot, ident[-1], node, args, final, receiver, iface)[0]

    def eval_field(  # noqa: PLR0917 -- mirrors Go's signature
        self,
        dot: Any,
        name: str,
        node: n.Node,
        args: list[n.Node] | None,
        final: Any,
        receiver: Any,
        iface: bool,
    ) -> tuple[Any, bool]:
        if receiver is None and not iface:
            if self.tmpl.missingkey == "error":
                self.errorf(f'nil data; no entry for key "{name}"')
            return None, False
        typ = "interface {}" if iface else go_type(receiver)
        if receiver is None:
            self.errorf(f"nil pointer evaluating {typ}.{name}")
        method = _go_methods(receiver).get(name)
        if method is not None:
            func = Func(name, method.call, method.params, method.variadic)
            return self.eval_call(dot, False, func, False, node, name, args, final), False
        has_args = (args is not None and len(args) > 1) or final is not MISSING
        if isinstance(receiver, dict):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name], not isinstance(receiver, TypedMap)
            mode = self.tmpl.missingkey
            if mode == "error":
                self.errorf(f'map has no entry for key "{name}"')
            if mode == "zero":
                return ("" if isinstance(receiver, TypedMap) else None), not isinstance(
                    receiver, TypedMap
                )
            return None, False
        self.errorf(f"can't evaluate field {name} in type {typ}")
        return None, False

    def eval_function(  # noqa: PLR0917 -- mirrors Go's signature
        self,
        dot: Any,
        dot_iface: bool,
        node: n.IdentifierNode,
        cmd: n.Node,
        args: list[n.Node] | None,
        final: Any,
    ) -> Any:
        self.at(node)
        func = self.tmpl.funcs.get(node.ident)
        builtin = False
        if func is None:
            func = BUILTINS.get(node.ident)
            builtin = True
        if func is None:
            self.errorf(f'"{node.ident}" is not a defined function')
            return None
        return self.eval_call(dot, dot_iface, func, builtin, cmd, node.ident, args, final)

    def eval_call(  # noqa: PLR0917 -- mirrors Go's signature
        self,
        dot: Any,
        dot_iface: bool,
        func: Func,
        builtin: bool,
        node: n.Node,
        name: str,
        args: list[n.Node] | None,
        final: Any,
    ) -> Any:
        argn = list(args[1:]) if args is not None else []
        num_in = len(argn) + (0 if final is MISSING else 1)
        num_fixed = len(argn)
        if func.variadic is not None:
            num_fixed = len(func.params)
            if num_in < num_fixed:
                self.errorf(
                    f"wrong number of args for {name}: want at least {num_fixed} got {len(argn)}"
                )
        elif num_in != len(func.params):
            self.errorf(f"wrong number of args for {name}: want {len(func.params)} got {num_in}")
        if builtin and name in ("and", "or"):
            v: Any = None
            for arg in argn:
                v = self.eval_arg(dot, dot_iface, "value", arg)
                if is_true(v) == (name == "or"):
                    return v
            if final is not MISSING:
                v = final
            return v
        argv: list[Any] = []
        i = 0
        while i < num_fixed and i < len(argn):
            argv.append(self.eval_arg(dot, dot_iface, func.params[i], argn[i]))
            i += 1
        if func.variadic is not None:
            while i < len(argn):
                argv.append(self.eval_arg(dot, dot_iface, func.variadic, argn[i]))
                i += 1
        if final is not MISSING:
            if func.variadic is not None:
                typ = func.params[num_in - 1] if num_in - 1 < num_fixed else func.variadic
            else:
                typ = func.params[-1]
            argv.append(self.validate_type(final, typ))
        self.steps += 1
        try:
            return func.fn(*argv)
        except FuncError as e:
            self.at(node)
            self.errorf(f"error calling {name}: {e}")
        except TemplateLimitError as e:
            self.at(node)
            self.errorf(f"error calling {name}: {e}", TemplateLimitError)
        except RecursionError:
            raise
        except (ValueError, TypeError, ArithmeticError, KeyError, IndexError) as e:
            # a Go function would have panicked; text/template turns that into an error
            self.at(node)
            self.errorf(f"error calling {name}: {e}")
        return None

    def eval_arg_iface(self, dot: Any, dot_iface: bool, node: n.Node) -> tuple[Any, bool]:
        """Evaluate the head of a chain; interface results (functions returning ``any``,
        map elements) are remembered for Go's ``interface {}`` in error messages."""
        if isinstance(node, n.IdentifierNode):
            func = self.tmpl.funcs.get(node.ident) or BUILTINS.get(node.ident)
            value = self.eval_arg(dot, dot_iface, "any", node)
            return value, func is not None and func.returns in ("any", "value")
        return self.eval_arg(dot, dot_iface, "any", node), False

    def validate_type(self, value: Any, typ: str) -> Any:
        if value is None:
            if typ in ("any", "value", "map"):
                return None
            self.errorf(f"invalid value; expected {GO_TYPE_NAMES.get(typ, typ)}")
        if typ in ("any", "value") or _assignable(value, typ):
            return value
        self.errorf(
            f"wrong type for value; expected {GO_TYPE_NAMES.get(typ, typ)}; got {go_type(value)}"
        )
        return None

    def eval_arg(self, dot: Any, dot_iface: bool, typ: str, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.DotNode):
            return self.validate_type(dot, typ)
        if isinstance(node, n.NilNode):
            if typ in ("any", "value", "map"):
                return None
            self.errorf(f"cannot assign nil to {GO_TYPE_NAMES.get(typ, typ)}")
        if isinstance(node, n.FieldNode):
            return self.validate_type(
                self.eval_field_node(dot, dot_iface, node, [node], MISSING), typ
            )
        if isinstance(node, n.VariableNode):
            return self.validate_type(
                self.eval_variable_node(dot, dot_iface, node, None, MISSING), typ
            )
        if isinstance(node, n.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, dot_iface, node), typ)
        if isinstance(node, n.IdentifierNode):
            return self.validate_type(
                self.eval_function(dot, dot_iface, node, node, None, MISSING), typ
            )
        if isinstance(node, n.ChainNode):
            return self.validate_type(
                self.eval_chain_node(dot, dot_iface, node, None, MISSING), typ
            )
        if typ == "bool":
            if isinstance(node, n.BoolNode):
                return node.value
            self.errorf(f"expected bool; found {node}")
        if typ == "float64":
            if isinstance(node, n.NumberNode) and node.is_float:
                return node.float_value
            self.errorf(f"expected float; found {node}")
        if typ in ("int", "int64"):
            if isinstance(node, n.NumberNode) and node.is_int:
                return Int64(node.int_value) if typ == "int64" else node.int_value
            self.errorf(f"expected integer; found {node}")
        if typ in ("any", "value"):
            return self.eval_empty_interface(dot, node)
        if typ == "string":
            if isinstance(node, n.StringNode):
                return node.text
            self.errorf(f"expected string; found {node}")
        self.errorf(f"can't handle {node} for arg of type {GO_TYPE_NAMES.get(typ, typ)}")
        return None

    def eval_empty_interface(self, dot: Any, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, n.StringNode):
            return node.text
        self.errorf(f"can't handle assignment of {node} to empty interface argument")
        return None

    def print_value(self, node: n.Node, value: Any) -> None:
        self.at(node)
        if value is None:
            self.write("<no value>")
            return
        if isinstance(value, str):
            self.write(value)
            return
        if isinstance(value, Func) or callable(value):
            self.errorf(f"can't print {node} of type {go_type(value)}")
        remaining = self.tmpl.limits.max_output - self.size
        try:
            text = print_value(value, max(remaining, 0))
        except TemplateLimitError:
            self.errorf(
                f"output exceeds the limit of {self.tmpl.limits.max_output} bytes",
                TemplateLimitError,
            )
        self.write(text)


def _assignable(value: Any, typ: str) -> bool:
    kind = type(value)
    if typ == "string":
        return kind is str
    if typ == "int":
        return kind is int
    if typ == "int64":
        return kind is Int64
    if typ == "float64":
        return kind is float
    if typ == "bool":
        return kind is bool
    if typ == "map":
        return kind is dict
    if typ == "time":
        return kind is GoTime
    return False
