"""The parser of Go's ``text/template``: items -> trees, one per template name (``define`` and
``block`` add more), with Go's checks and error messages."""

from __future__ import annotations

from collections.abc import Callable

from weir.operator.gotemplate import nodes as n
from weir.operator.gotemplate.errors import TemplateSyntaxError
from weir.operator.gotemplate.lexer import Item, T, lex, location

MAX_PARSE_DEPTH = 100
"""Deepest nesting of parentheses and control structures (Go allows 10000; Python's stack is
smaller, and no real template comes near this)."""


def go_unquote(text: str) -> str:
    """``strconv.Unquote`` of a Go string, raw string or character literal."""
    if len(text) < 2:
        raise ValueError("invalid syntax")
    quote = text[0]
    if quote != text[-1]:
        raise ValueError("invalid syntax")
    body = text[1:-1]
    if quote == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if quote not in "\"'":
        raise ValueError("invalid syntax")
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c in (quote, "\n"):
            raise ValueError("invalid syntax")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise ValueError("invalid syntax")
        e = body[i]
        i += 1
        simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
        if e in simple:
            out.append(simple[e])
        elif e == "\\":
            out.append("\\")
        elif e == quote:
            out.append(e)
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + size]
            if len(digits) != size or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("invalid syntax")
            i += size
            code = int(digits, 16)
            if e == "x":
                if quote == "'":
                    out.append(chr(code))
                else:
                    out.append(bytes([code]).decode("latin-1") if code < 0x80 else chr(0xFFFD))
            else:
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise ValueError("invalid syntax")
                out.append(chr(code))
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("invalid syntax")
            i += 2
            code = int(digits, 8)
            if code > 255:
                raise ValueError("invalid syntax")
            out.append(chr(code) if code < 0x80 or quote == "'" else chr(0xFFFD))
        else:
            raise ValueError("invalid syntax")
    result = "".join(out)
    if quote == "'" and len(result) != 1:
        raise ValueError("invalid syntax")
    return result


def _parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` without the range check (done by the caller)."""
    s = text
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    base = 10
    body = s
    if len(s) > 1 and s[0] == "0":
        prefix = s[1].lower()
        if prefix in "xob":
            base = {"x": 16, "o": 8, "b": 2}[prefix]
            body = s[2:]
        else:
            base = 8
            body = s[1:]
    if "_" in body or "_" in s:
        # underscores only between digits (or after a base prefix)
        check = s if base == 10 else "0" + s[1:]
        if check.startswith("_") or check.endswith("_") or "__" in check:
            return None
        body = body.replace("_", "")
    if not body:
        return None
    try:
        return sign * int(body, base)
    except ValueError:
        return None


def new_number(pos: int, text: str, typ: T) -> n.NumberNode:
    """Go's ``newNumber``: which of int, uint and float the constant can be."""
    node = n.NumberNode(pos, text)
    if typ == T.CHAR_CONSTANT:
        try:
            rune = go_unquote(text)
        except ValueError as e:
            raise ValueError("malformed character constant: " + text) from e
        code = ord(rune)
        node.is_int = node.is_uint = node.is_float = True
        node.int_value = node.uint_value = code
        node.float_value = float(code)
        return node
    if typ == T.COMPLEX:
        raise ValueError(f"complex numbers are not supported: {text}")
    if text.endswith("i"):
        raise ValueError(f"complex numbers are not supported: {text}")
    value = _parse_go_int(text)
    if value is not None and 0 <= value < 2**64 and not text.startswith("-"):
        node.is_uint = True
        node.uint_value = value
    if value is not None and -(2**63) <= value < 2**63:
        node.is_int = True
        node.int_value = value
        if value == 0:
            node.is_uint = True
            node.uint_value = 0
    if node.is_int:
        node.is_float = True
        node.float_value = float(node.int_value)
    elif node.is_uint:
        node.is_float = True
        node.float_value = float(node.uint_value)
    else:
        f = _parse_go_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise ValueError(f"integer overflow: {_q(text)}")
            node.is_float = True
            node.float_value = f
            if f == int(f) and -(2**63) <= f < 2**63:
                node.is_int = True
                node.int_value = int(f)
            if f == int(f) and 0 <= f < 2**64:
                node.is_uint = True
                node.uint_value = int(f)
    if not (node.is_int or node.is_uint or node.is_float):
        raise ValueError(f"illegal number syntax: {_q(text)}")
    return node


def _parse_go_float(text: str) -> float | None:
    s = text.replace("_", "") if "_" in text else text
    try:
        if s.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(s)
        if s.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return None
        value = float(s)
    except (ValueError, OverflowError):
        return None
    if value in (float("inf"), float("-inf")):
        return None
    return value


def _q(s: str) -> str:
    from weir.operator.gotemplate.gofmt import quote  # noqa: PLC0415

    return quote(s)


class Tree:
    """One named template: its root list and the text it was parsed from."""

    def __init__(self, name: str, parse_name: str, text: str) -> None:
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.root: n.ListNode | None = None

    def location(self, node: n.Node) -> tuple[int, int]:
        return location(self.text, node.pos)


class Parser:
    """Parses one text into ``trees`` (the main one under ``name``, then the defined ones)."""

    def __init__(  # noqa: PLR0917 -- mirrors Go's signature
        self,
        name: str,
        text: str,
        left: str,
        right: str,
        has_function: Callable[[str], bool],
        trees: dict[str, Tree],
    ) -> None:
        self.name = name
        self.text = text
        self.items = lex(text, left, right)
        self.i = 0
        self.has_function = has_function
        self.trees = trees
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.depth = 0
        self.furthest = 0
        self.tree = Tree(name, name, text)

    # ----------------------------------------------------------------- tokens
    def error(self, message: str, item: Item | None = None) -> None:
        current = item or self.items[min(self.furthest, len(self.items) - 1)]
        line = current.line
        column = location(self.text, current.pos)[1] + 1
        raise TemplateSyntaxError(
            f"template: {self.name}:{line}: {message}", name=self.name, line=line, column=column
        )

    def next(self) -> Item:
        item = self.items[self.i] if self.i < len(self.items) else self.items[-1]
        self.furthest = max(self.furthest, self.i)
        self.i += 1
        return item

    def backup(self, count: int = 1) -> None:
        self.i -= count

    def peek(self) -> Item:
        self.furthest = max(self.furthest, self.i)
        return self.items[self.i] if self.i < len(self.items) else self.items[-1]

    def next_non_space(self) -> Item:
        while True:
            item = self.next()
            if item.typ != T.SPACE:
                return item

    def peek_non_space(self) -> Item:
        item = self.next_non_space()
        self.backup()
        return item

    def expect(self, typ: T, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != typ:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> None:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line and self.action_line != token.line:
                extra = f" in {context}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in") :]
            self.error(f"{token}{extra}", token)
        self.error(f"unexpected {token} in {context}", token)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_PARSE_DEPTH:
            self.error(f"max expression depth exceeded ({MAX_PARSE_DEPTH})")

    # ----------------------------------------------------------------- structure
    def parse(self) -> None:
        self.tree.root = n.ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                save = self.i
                self.next()
                if self.next_non_space().typ == T.DEFINE:
                    self.parse_definition()
                    continue
                self.i = save
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                self.error(f"unexpected {node}")
            self.tree.root.nodes.append(node)
        self.add(self.tree)

    def add(self, tree: Tree) -> None:
        existing = self.trees.get(tree.name)
        if existing is None or n.is_empty_tree(existing.root):
            self.trees[tree.name] = tree
            return
        if not n.is_empty_tree(tree.root):
            self.error(f"template: multiple definition of template {_q(tree.name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (T.STRING, T.RAW_STRING):
            self.unexpected(token, context)
        try:
            name = go_unquote(token.val)
        except ValueError as e:
            self.error(str(e), token)
        outer_tree, outer_vars = self.tree, self.vars
        self.tree = Tree(name, self.name, self.text)
        self.vars = ["$"]
        self.expect(T.RIGHT_DELIM, context)
        root, end = self.item_list()
        if not isinstance(end, n.EndNode):
            self.error(f"unexpected {end} in {context}")
        self.tree.root = root
        self.add(self.tree)
        self.tree, self.vars = outer_tree, outer_vars

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                return lst, node
            lst.nodes.append(node)
        self.error("unexpected EOF")
        raise AssertionError  # pragma: no cover

    def text_or_action(self) -> n.Node:
        token = self.next_non_space()
        if token.typ == T.TEXT:
            return n.TextNode(token.pos, token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == T.COMMENT:
            return n.CommentNode(token.pos, token.val)
        self.unexpected(token, "input")
        raise AssertionError  # pragma: no cover

    def action(self) -> n.Node:
        token = self.next_non_space()
        handlers: dict[T, Callable[[], n.Node]] = {
            T.BLOCK: self.block_control,
            T.ELSE: self.else_control,
            T.END: self.end_control,
            T.IF: lambda: self.branch("if", n.IfNode),
            T.RANGE: lambda: self.branch("range", n.RangeNode),
            T.TEMPLATE: self.template_control,
            T.WITH: lambda: self.branch("with", n.WithNode),
        }
        if token.typ == T.BREAK:
            return self.break_control(token, n.BreakNode, "break")
        if token.typ == T.CONTINUE:
            return self.break_control(token, n.ContinueNode, "continue")
        if token.typ in handlers:
            return handlers[token.typ]()
        self.backup()
        token = self.peek()
        pipe = self.pipeline("command", T.RIGHT_DELIM)
        return n.ActionNode(token.pos, token.line, pipe)

    def break_control(
        self, token: Item, cls: type[n.BreakNode] | type[n.ContinueNode], word: str
    ) -> n.Node:
        nxt = self.next_non_space()
        if nxt.typ != T.RIGHT_DELIM:
            self.unexpected(nxt, "{{" + word + "}}")
        if self.range_depth == 0:
            self.error("{{" + word + "}} outside {{range}}")
        return cls(token.pos, token.line)

    def pipeline(self, context: str, end: T) -> n.PipeNode:
        self.enter()
        try:
            token = self.peek_non_space()
            pipe = n.PipeNode(token.pos, token.line)
            while True:  # declarations
                save = self.i
                v = self.peek_non_space()
                if v.typ != T.VARIABLE:
                    break
                self.next_non_space()
                nxt = self.peek_non_space()
                if nxt.typ in (T.ASSIGN, T.DECLARE):
                    pipe.is_assign = nxt.typ == T.ASSIGN
                    self.next_non_space()
                    pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                    self.vars.append(v.val)
                elif nxt.typ == T.CHAR and nxt.val == ",":
                    self.next_non_space()
                    pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                    self.vars.append(v.val)
                    if context == "range" and len(pipe.decl) < 2:
                        if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                            continue
                        self.error("range can only initialize variables")
                    self.error(f"too many declarations in {context}")
                else:
                    # "$x foo" or "$x": the variable is an operand; put it back
                    self.i = save
                break
            while True:
                token = self.next_non_space()
                if token.typ == end:
                    self.check_pipeline(pipe, context)
                    return pipe
                if token.typ in (
                    T.BOOL,
                    T.CHAR_CONSTANT,
                    T.COMPLEX,
                    T.DOT,
                    T.FIELD,
                    T.IDENTIFIER,
                    T.NUMBER,
                    T.NIL,
                    T.RAW_STRING,
                    T.STRING,
                    T.VARIABLE,
                    T.LEFT_PAREN,
                ):
                    self.backup()
                    pipe.cmds.append(self.command())
                else:
                    self.unexpected(token, context)
        finally:
            self.depth -= 1

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(
                cmd.args[0], (n.BoolNode, n.DotNode, n.NilNode, n.NumberNode, n.StringNode)
            ):
                self.error(f"non executable command in pipeline stage {i + 2}")

    def branch(self, context: str, cls: type[n.BranchNode]) -> n.BranchNode:
        self.enter()
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: n.ListNode | None = None
            if isinstance(nxt, n.ElseNode):
                if context in ("if", "with") and self.peek().typ == (
                    T.IF if context == "if" else T.WITH
                ):
                    self.next()
                    else_list = n.ListNode(nxt.pos)
                    else_list.nodes.append(self.branch(context, cls))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, n.EndNode):
                        self.error(f"expected end; found {nxt}")
            return cls(pipe.pos, pipe.line, pipe, lst, else_list, context)
        finally:
            del self.vars[mark:]
            self.depth -= 1

    def else_control(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            return n.ElseNode(peek.pos, peek.line)
        token = self.expect(T.RIGHT_DELIM, "else")
        return n.ElseNode(token.pos, token.line)

    def end_control(self) -> n.Node:
        return n.EndNode(self.expect(T.RIGHT_DELIM, "end").pos)

    def template_name(self, token: Item, context: str) -> str:
        if token.typ not in (T.STRING, T.RAW_STRING):
            self.unexpected(token, context)
        try:
            return go_unquote(token.val)
        except ValueError as e:
            self.error(str(e), token)
            raise AssertionError from e  # pragma: no cover

    def template_control(self) -> n.Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe: n.PipeNode | None = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(token.pos, token.line, name, pipe)

    def block_control(self) -> n.Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        outer_tree, outer_vars = self.tree, self.vars
        self.tree = Tree(name, self.name, self.text)
        self.vars = ["$"]
        root, end = self.item_list()
        if not isinstance(end, n.EndNode):
            self.error(f"unexpected {end} in {context}")
        self.tree.root = root
        self.add(self.tree)
        self.tree, self.vars = outer_tree, outer_vars
        return n.TemplateNode(token.pos, token.line, name, pipe)

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif token.typ == T.PIPE:
                pass
            else:
                self.unexpected(token, "operand")
            break
        if not cmd.args:
            self.error("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = n.ChainNode(self.peek().pos, node)
            while self.peek().typ == T.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, n.VariableNode):
                return n.VariableNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode, n.DotNode)):
                self.error(f"unexpected . after term {_q(str(node))}")
            return chain
        return node

    def term(self) -> n.Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == T.IDENTIFIER:
            if not self.has_function(token.val):
                self.error(f"function {_q(token.val)} not defined", token)
            return n.IdentifierNode(token.pos, token.val)
        if typ == T.DOT:
            return n.DotNode(token.pos)
        if typ == T.NIL:
            return n.NilNode(token.pos)
        if typ == T.VARIABLE:
            name = token.val.split(".")[0]
            if name not in self.vars:
                self.error(f"undefined variable {_q(name)}", token)
            return n.VariableNode(token.pos, token.val.split("."))
        if typ == T.FIELD:
            return n.FieldNode(token.pos, token.val[1:].split("."))
        if typ == T.BOOL:
            return n.BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            try:
                return new_number(token.pos, token.val, typ)
            except ValueError as e:
                self.error(str(e), token)
        if typ == T.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if typ in (T.STRING, T.RAW_STRING):
            try:
                return n.StringNode(token.pos, token.val, go_unquote(token.val))
            except ValueError as e:
                self.error(str(e), token)
        self.backup()
        return None


def parse(
    name: str,
    text: str,
    *,
    left: str = "{{",
    right: str = "}}",
    has_function: Callable[[str], bool],
    trees: dict[str, Tree] | None = None,
) -> dict[str, Tree]:
    """Parse ``text`` as template ``name``; returns every tree it defines (and ``name``)."""
    found: dict[str, Tree] = {} if trees is None else trees
    Parser(name, text, left, right, has_function, found).parse()
    return found
