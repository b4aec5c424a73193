"""JSONata expressions (``{% … %}``) read on the parse tree of jsonata-python's parser.

``eval_jsonata`` walks one expression: every path that starts from ``$states.input``,
``$states.context.Execution.Input``, ``$states.context.Map.Item.Value`` (in an ``ItemSelector``)
or a workflow variable that holds a part of the input becomes a read; the operator or function
that consumes it says its type (arithmetic → number, ``&`` and string functions → string,
comparison with a literal → the literal's type and the literal, ``$count``/``$sum`` … → array).

It also works out which reads make the expression *undefined* when the field is missing (a
path on its own, arithmetic on it): Step Functions fails a state whose field evaluates to
undefined, so only those reads are strict. Anything that tolerates a missing field (``$exists``,
``? :``, comparisons, ``&``, function calls) is not.

The function signatures are JSONata 2.0's (the version Step Functions runs), plus Step
Functions' own functions, as a table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonata.jexception import JException  # type: ignore[import-untyped]
from jsonata.parser import Parser  # type: ignore[import-untyped]

from sfn_mcp.infer.facts import Kind, Sink, literal_text
from sfn_mcp.infer.values import (
    SOME,
    UNKNOWN,
    Path,
    Value,
    constructed,
    from_input,
    get,
    join,
    path_key,
)

Node = Any  # jsonata.parser.Parser.Symbol: jsonata-python ships no type information


class NataError(ValueError):
    """Not a JSONata expression the parser accepts."""


@dataclass(frozen=True)
class NataEnv:
    """What ``$states`` and the variables are in one JSONata field of one state."""

    states_input: Value
    states_result: Value
    exec_input: Value
    item: Value | None
    variables: Mapping[str, Value]


def is_expression(value: object) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


@functools.lru_cache(maxsize=4096)
def parse_jsonata(body: str) -> Node:
    try:
        return Parser().parse(body)
    except JException as error:
        raise NataError(str(error)) from error
    except (RecursionError, IndexError, AttributeError, TypeError, ValueError) as error:
        raise NataError(f"{type(error).__name__}: {error}") from error


# Argument kinds by position: s string, n number, b boolean, a array, o object, "" anything,
# "a<n>" an array of numbers (and so on). From JSONata's function signatures.
FUNCTION_ARGS: dict[str, tuple[str, ...]] = {
    # aggregation
    "sum": ("a<n>",),
    "max": ("a<n>",),
    "min": ("a<n>",),
    "average": ("a<n>",),
    "count": ("a",),
    # strings
    "string": ("", "b"),
    "substring": ("s", "n", "n"),
    "substringBefore": ("s", "s"),
    "substringAfter": ("s", "s"),
    "lowercase": ("s",),
    "uppercase": ("s",),
    "length": ("s",),
    "trim": ("s",),
    "pad": ("s", "n", "s"),
    "match": ("s", "", "n"),
    "contains": ("s", ""),
    "replace": ("s", "", "", "n"),
    "split": ("s", "", "n"),
    "join": ("a<s>", "s"),
    "base64encode": ("s",),
    "base64decode": ("s",),
    "encodeUrlComponent": ("s",),
    "encodeUrl": ("s",),
    "decodeUrlComponent": ("s",),
    "decodeUrl": ("s",),
    # numbers
    "formatNumber": ("n", "s", "o"),
    "formatBase": ("n", "n"),
    "formatInteger": ("n", "s"),
    "parseInteger": ("s", "s"),
    "number": ("",),
    "floor": ("n",),
    "ceil": ("n",),
    "round": ("n", "n"),
    "abs": ("n",),
    "sqrt": ("n",),
    "power": ("n", "n"),
    # booleans, objects, arrays
    "boolean": ("",),
    "not": ("",),
    "exists": ("",),
    "keys": ("",),
    "lookup": ("", "s"),
    "spread": ("",),
    "merge": ("a<o>",),
    "each": ("o",),
    "sift": ("o",),
    "type": ("",),
    "append": ("", ""),
    "reverse": ("a",),
    "shuffle": ("a",),
    "sort": ("a",),
    "distinct": ("",),
    "zip": ("a", "a", "a", "a"),
    "map": ("a",),
    "filter": ("a",),
    "single": ("a",),
    "reduce": ("a",),
    # dates
    "toMillis": ("s", "s"),
    "fromMillis": ("n", "s", "s"),
    "now": ("s", "s"),
    # Step Functions' own
    "partition": ("a", "n"),
    "range": ("n", "n", "n"),
    "hash": ("s", "s"),
    "random": ("n",),
    "uuid": (),
    "parse": ("s",),
}

# Higher-order functions: which lambda parameters get an element of the first argument.
ELEMENT_PARAMETERS: dict[str, tuple[int, ...]] = {
    "map": (0,),
    "filter": (0,),
    "single": (0,),
    "sort": (0, 1),
    "reduce": (1,),
}

_ARG_KIND: dict[str, Kind] = {
    "s": "string",
    "n": "number",
    "b": "boolean",
    "a": "array",
    "o": "object",
}
# Casts: they accept anything, so they say how a value is used, not what it is.
CASTS: dict[str, str] = {
    "string": "converted to text",
    "number": "converted to a number",
    "boolean": "converted to a boolean",
}
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_COMPARISON = frozenset({"=", "!=", "<", ">", "<=", ">="})


@dataclass(frozen=True)
class _R:
    value: Value
    strict: frozenset[Path] = frozenset()
    literal: bool = False
    constant: object = None


_NOTHING = _R(UNKNOWN)


def _literal_kind(value: object) -> Kind | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def eval_jsonata(
    text: str,
    env: NataEnv,
    sink: Sink | None,
    *,
    kind: Kind | None = None,
    date_time: bool = False,
) -> Value:
    """The value of the ``{% … %}`` field ``text``; its reads go to ``sink``, the field's own
    type (``kind``: a Wait's ``Seconds`` is a number) applies when the expression is a part of
    the input as it is."""
    body = text[2:-2].strip()
    try:
        tree = parse_jsonata(body)
    except NataError as error:
        if sink is not None:
            sink.note(
                f"the JSONata expression {text!r} could not be parsed ({error}): "
                "what it reads cannot be seen",
                level="warning",
            )
        return UNKNOWN
    walker = _Walker(env, sink)
    result = walker.ev(tree, UNKNOWN, {})
    if sink is not None:
        for path in sorted(result.strict, key=path_key):
            sink.touch(from_input(path), strict=True)
        if kind is not None:
            sink.touch(result.value, kind=kind, date_time=date_time)
    return result.value


def eval_template(template: object, env: NataEnv, sink: Sink | None) -> Value:
    """A JSONata-state field that may nest ``{% %}`` strings in objects and arrays."""
    if is_expression(template):
        return eval_jsonata(str(template), env, sink)
    if isinstance(template, dict):
        return constructed({str(k): eval_template(v, env, sink) for k, v in template.items()})
    if isinstance(template, list):
        for element in template:
            eval_template(element, env, sink)
    return UNKNOWN


@dataclass
class _Walker:
    env: NataEnv
    sink: Sink | None
    depth: int = field(default=0)

    def touch(
        self,
        value: Value,
        kind: Kind | None = None,
        *,
        compared: tuple[str, ...] = (),
        nullable: bool = False,
        date_time: bool = False,
        usage: str = "",
    ) -> None:
        if self.sink is not None:
            self.sink.touch(
                value,
                kind=kind,
                compared=compared,
                nullable=nullable,
                date_time=date_time,
                usage=usage,
            )

    # -- nodes -----------------------------------------------------------------------------

    def ev(self, node: Node, focus: Value, local: dict[str, Value]) -> _R:
        if node is None:
            return _NOTHING
        self.depth += 1
        try:
            if self.depth > 200:
                return _NOTHING
            result = self._ev(node, focus, local)
            if getattr(node, "type", None) != "path":
                if node.predicate:
                    value, _ = self._stages(result.value, node.predicate, local)
                    result = _R(value)
                if node.group is not None:
                    self._group(node.group, result.value, local)
                    result = _NOTHING
            return result
        finally:
            self.depth -= 1

    def _ev(self, node: Node, focus: Value, local: dict[str, Value]) -> _R:
        kind = node.type
        if kind == "path":
            return self._path(node, focus, local)
        if kind == "variable":
            value = self._variable(str(node.value), focus, local)
            return self._strict_if_input(value if value is not None else UNKNOWN)
        if kind in ("string", "number", "value"):
            return _R(UNKNOWN, literal=True, constant=node.value)
        if kind == "binary":
            return self._binary(node, focus, local)
        if kind == "unary":
            return self._unary(node, focus, local)
        if kind in ("function", "partial"):
            return self._function(node, focus, local, None)
        if kind == "lambda":
            self._lambda(node, {}, focus, local)
            return _NOTHING
        if kind == "condition":
            self.ev(node.condition, focus, local)
            then = self.ev(node.then, focus, local)
            if node._else is None:
                return _R(join([then.value, UNKNOWN]))
            otherwise = self.ev(node._else, focus, local)
            return _R(join([then.value, otherwise.value]), then.strict & otherwise.strict)
        if kind == "block":
            inner = dict(local)
            result = _NOTHING
            for expression in node.expressions or []:
                result = self.ev(expression, focus, inner)
            return result
        if kind == "bind":
            bound = self.ev(node.rhs, focus, local)
            if node.lhs is not None and node.lhs.type == "variable":
                local[str(node.lhs.value)] = bound.value
            return bound
        if kind == "apply":
            piped = self.ev(node.lhs, focus, local)
            target = node.rhs
            if target is not None and target.type in ("function", "partial"):
                return self._function(target, focus, local, piped)
            if target is not None and target.type == "variable":
                self._typed_args(str(target.value), [piped])
                return _NOTHING
            if target is not None and target.type == "lambda":
                self._lambda(target, {0: piped.value}, focus, local)
                return _NOTHING
            self.ev(target, focus, local)
            return _NOTHING
        if kind == "transform":
            for part in (node.pattern, node.update, node.delete):
                self.ev(part, UNKNOWN, local)
            return _NOTHING
        if kind in ("wildcard", "descendant"):
            self.touch(focus)
            return _NOTHING
        if kind == "error" and self.sink is not None:
            self.sink.note("a JSONata expression has a syntax error", level="warning")
        return _NOTHING

    def _variable(self, name: str, focus: Value, local: dict[str, Value]) -> Value | None:
        if name == "":
            return focus
        if name in local:
            return local[name]
        return self.env.variables.get(name)

    @staticmethod
    def _strict_if_input(value: Value) -> _R:
        shape = value.single
        if shape is not None and shape.origin is not None:
            return _R(value, frozenset({shape.origin}))
        return _R(value)

    def _path(self, node: Node, focus: Value, local: dict[str, Value]) -> _R:
        steps = list(node.steps or [])
        if not steps:
            return _NOTHING
        first = steps[0]
        rest: list[Node]
        if first.type == "variable" and first.value == "states":
            current, rest = self._states_root(steps)
        elif first.type == "variable":
            found = self._variable(str(first.value), focus, local)
            current, rest = (found if found is not None else UNKNOWN), steps[1:]
        elif first.type == "name":
            current, rest = focus, steps
        else:
            current, rest = self.ev(first, focus, local).value, steps[1:]
        strict: Value | None = current
        followed = True  # every step so far is a plain field step: missing → undefined
        mapping = False  # a filter ran: the next field step reads each element
        if first.type == "variable" and first.stages:
            current, mapping = self._stages(current, first.stages, local)
            strict, followed = None, False
        for step in rest:
            if step.type == "name":
                if mapping:
                    current, mapping = get(current, [SOME]), False
                current = get(current, [str(step.value)])
            elif step.type in ("wildcard", "descendant"):
                self.touch(get(current, [SOME]) if mapping else current)
                current, followed, strict = UNKNOWN, False, None
                break
            elif step.type == "sort":
                element = get(current, [SOME])
                for term in step.terms or []:
                    self.ev(term.expression, element, local)
            else:
                subject = get(current, [SOME]) if mapping else current
                if step.type in ("function", "partial"):
                    current = self._context_call(step, subject, local)
                else:
                    self.touch(subject)
                    current = self.ev(step, subject, local).value
                mapping, followed, strict = False, False, None
            if followed:
                strict = current
            if step.stages:
                if followed:
                    strict = current
                current, mapping = self._stages(current, step.stages, local)
                followed = False
            if step.group is not None:
                self._group(step.group, current, local)
                current, followed, strict = UNKNOWN, False, None
        if node.group is not None:
            self._group(node.group, current, local)
            current = UNKNOWN
        self.touch(current)
        if strict is None:
            return _R(current)
        strict_paths = self._strict_if_input(strict).strict
        return _R(current, strict_paths)

    def _states_root(self, steps: list[Node]) -> tuple[Value, list[Node]]:
        names: list[str] = []
        for step in steps[1:6]:
            if step.type != "name" or step.stages:
                break
            names.append(str(step.value))
        if names[:1] == ["input"]:
            return self.env.states_input, steps[2:]
        if names[:1] == ["result"]:
            return self.env.states_result, steps[2:]
        if names[:3] == ["context", "Execution", "Input"]:
            return self.env.exec_input, steps[4:]
        if names[:4] == ["context", "Map", "Item", "Value"] and self.env.item is not None:
            return self.env.item, steps[5:]
        return UNKNOWN, []

    def _stages(
        self, current: Value, stages: list[Node], local: dict[str, Value]
    ) -> tuple[Value, bool]:
        """Apply ``[…]`` stages: an index picks an element, a filter keeps the array (and the
        next field step reads each element)."""
        mapping = False
        for stage in stages:
            if stage.type != "filter":
                continue
            expression = stage.expr
            self.touch(current, "array")
            if expression is not None and expression.type == "number":
                current, mapping = get(current, [SOME]), False
            else:
                self.ev(expression, get(current, [SOME]), local)
                mapping = True
        return current, mapping

    def _group(self, group: Node, current: Value, local: dict[str, Value]) -> None:
        element = get(current, [SOME])
        for pair in group.lhs_object or []:
            for part in pair:
                self.ev(part, element, local)

    def _binary(self, node: Node, focus: Value, local: dict[str, Value]) -> _R:
        operator = str(node.value)
        left = self.ev(node.lhs, focus, local)
        right = self.ev(node.rhs, focus, local)
        if operator in _ARITHMETIC:
            self.touch(left.value, "number")
            self.touch(right.value, "number")
            return _R(UNKNOWN, left.strict | right.strict)
        if operator == "&":
            self.touch(left.value, "string")
            self.touch(right.value, "string")
        elif operator in _COMPARISON:
            for subject, other in ((left, right), (right, left)):
                if other.literal and not subject.literal:
                    text = literal_text(other.constant)
                    self.touch(
                        subject.value,
                        _literal_kind(other.constant),
                        compared=(text,) if text is not None and other.constant is not None else (),
                        nullable=other.constant is None,
                    )
        elif operator == "in":
            self._membership(left, node.rhs, right)
        elif operator == "..":
            self.touch(left.value, "integer")
            self.touch(right.value, "integer")
        return _NOTHING

    def _membership(self, left: _R, options: Node, right: _R) -> None:
        constants = _constants(options)
        if constants is not None:
            kinds = {_literal_kind(c) for c in constants if c is not None}
            texts = tuple(t for c in constants if c is not None if (t := literal_text(c)))
            self.touch(
                left.value,
                kinds.pop() if len(kinds) == 1 else None,
                compared=texts,
                nullable=None in constants,
            )
        else:
            self.touch(right.value, "array")

    def _unary(self, node: Node, focus: Value, local: dict[str, Value]) -> _R:
        operator = str(node.value)
        if operator == "-":
            inner = self.ev(node.expression, focus, local)
            self.touch(inner.value, "number")
            return _R(UNKNOWN, inner.strict)
        if operator == "[":
            for expression in node.expressions or []:
                self.ev(expression, focus, local)
            return _NOTHING
        if operator == "{":
            fields: dict[str, Value] = {}
            named = True
            for key, value in node.lhs_object or []:
                name = self.ev(key, focus, local)
                inner = self.ev(value, focus, local)
                if name.literal and isinstance(name.constant, str):
                    fields[name.constant] = inner.value
                else:
                    named = False
            return _R(constructed(fields)) if named else _NOTHING
        self.ev(node.expression, focus, local)
        return _NOTHING

    def _function(self, node: Node, focus: Value, local: dict[str, Value], piped: _R | None) -> _R:
        procedure = node.procedure
        name = _function_name(node)
        if procedure is not None and procedure.type != "variable":
            self.ev(procedure, focus, local)
        arguments = [a for a in (node.arguments or []) if a.type != "operator"]
        results: list[_R] = [piped] if piped is not None else []
        lambdas: list[Node] = []
        for argument in arguments:
            if argument.type == "lambda":
                lambdas.append(argument)
                results.append(_NOTHING)
            else:
                results.append(self.ev(argument, focus, local))
        user_defined = name in local or name in self.env.variables
        if not user_defined:
            self._typed_args(name, results)
        positions = ELEMENT_PARAMETERS.get(name, ()) if not user_defined else ()
        element = get(results[0].value, [SOME]) if results and positions else UNKNOWN
        for function in lambdas:
            self._lambda(function, {p: element for p in positions}, focus, local)
        return _NOTHING

    def _context_call(self, node: Node, subject: Value, local: dict[str, Value]) -> Value:
        """A function called as a path step (``$states.input.name.$uppercase()``): where it is
        given fewer arguments than it takes, the step's context is its first."""
        name = _function_name(node)
        given = [a for a in (node.arguments or []) if a.type != "operator"]
        if len(given) < len(FUNCTION_ARGS.get(name, ())):
            return self._function(node, subject, local, _R(subject)).value
        self.touch(subject)
        return self.ev(node, subject, local).value

    def _typed_args(self, name: str, results: list[_R]) -> None:
        kinds = FUNCTION_ARGS.get(name)
        if kinds is None:
            return
        if name in CASTS and results:
            self.touch(results[0].value, usage=CASTS[name])
        for position, result in enumerate(results):
            code = kinds[position] if position < len(kinds) else ""
            if not code:
                continue
            date_time = name == "toMillis" and position == 0 and len(results) == 1
            self.touch(result.value, _ARG_KIND[code[0]], date_time=date_time)
            if code.startswith("a<"):
                self.touch(get(result.value, [SOME]), _ARG_KIND[code[2]])

    def _lambda(
        self, node: Node, bound: dict[int, Value], focus: Value, local: dict[str, Value]
    ) -> None:
        inner = dict(local)
        for position, parameter in enumerate(node.arguments or []):
            if getattr(parameter, "type", None) == "variable":
                inner[str(parameter.value)] = bound.get(position, UNKNOWN)
        self.ev(node.body, focus, inner)


def _function_name(node: Node) -> str:
    """``uppercase`` for ``$uppercase(…)``; "" when the function is not named by a variable."""
    procedure = node.procedure
    if procedure is not None and procedure.type == "variable":
        return str(procedure.value)
    return ""


def _constants(node: Node) -> list[object] | None:
    """The literals of an array constructor of literals only (``['a', 'b']``)."""
    if node is None or node.type != "unary" or str(node.value) != "[":
        return None
    out: list[object] = []
    for expression in node.expressions or []:
        if expression.type not in ("string", "number", "value"):
            return None
        out.append(expression.value)
    return out
