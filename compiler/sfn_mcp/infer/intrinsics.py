"""Intrinsic functions (``States.Format('{} {}', $.a, States.ArrayLength($.b))``): a tokenizer
and a recursive-descent parser of their argument lists, and what each argument position says
about the type of what is passed there.

Intrinsics are not JSONPath: their arguments are string literals in single quotes (``\\'``,
``\\{``, ``\\}`` and ``\\\\`` escape), numbers, ``true``/``false``/``null``, nested intrinsics and
JSONPath references (``$.x``, ``$$.Execution.Input.x``, ``$variable``), which end at the first
``,`` or ``)`` outside brackets, parentheses and quotes. No library on PyPI parses them, so this
is written here, small and tested.
"""

from __future__ import annotations

from dataclasses import dataclass

from sfn_mcp.infer.facts import Kind, Sink
from sfn_mcp.infer.refs import PathEnv, RefError, parse_ref, read_ref
from sfn_mcp.infer.values import SOME, UNKNOWN, Value, get


class IntrinsicError(ValueError):
    """Not an intrinsic function call Step Functions would accept."""


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class PathArg:
    text: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Call | PathArg | Literal, ...]


Arg = Call | PathArg | Literal


@dataclass(frozen=True)
class Token:
    kind: str  # name ( ) , string number literal path
    text: str
    value: str | int | float | bool | None = None


def is_intrinsic(text: str) -> bool:
    return text.lstrip().startswith("States.")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            tokens.append(Token(c, c))
            i += 1
        elif c == "'":
            end, value = _string(text, i)
            tokens.append(Token("string", text[i:end], value))
            i = end
        elif c == "$":
            end = _path_end(text, i)
            tokens.append(Token("path", text[i:end].strip()))
            i = end
        elif c == "-" or c.isdigit():
            end = i + 1
            while end < n and (text[end].isdigit() or text[end] in ".eE+-"):
                end += 1
            number = text[i:end]
            try:
                parsed: int | float = (
                    float(number) if any(x in number for x in ".eE") else int(number)
                )
            except ValueError as error:
                raise IntrinsicError(f"bad number {number!r} at {i}") from error
            tokens.append(Token("number", number, parsed))
            i = end
        elif c.isalpha():
            end = i
            while end < n and (text[end].isalnum() or text[end] in "._"):
                end += 1
            word = text[i:end]
            if word in ("true", "false", "null"):
                tokens.append(Token("literal", word, {"true": True, "false": False}.get(word)))
            elif word.startswith("States."):
                tokens.append(Token("name", word))
            else:
                raise IntrinsicError(f"unexpected {word!r} at {i}")
            i = end
        else:
            raise IntrinsicError(f"unexpected {c!r} at {i}")
    return tokens


def _string(text: str, start: int) -> tuple[int, str]:
    """The index just after the string literal opening at ``start``, and its value with the
    escapes undone."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif c == "'":
            return i + 1, "".join(out)
        else:
            out.append(c)
            i += 1
    raise IntrinsicError(f"unterminated string literal at {start}")


def _path_end(text: str, start: int) -> int:
    depth = 0
    quote = ""
    i = start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            if depth == 0:
                return i
            depth -= 1
        elif c == "," and depth == 0:
            return i
        i += 1
    return i


def parse_intrinsic(text: str) -> Call:
    tokens = tokenize(text)
    call, position = _call(tokens, 0)
    if position != len(tokens):
        raise IntrinsicError(f"unexpected {tokens[position].text!r} after the call")
    return call


def _call(tokens: list[Token], i: int) -> tuple[Call, int]:
    if i >= len(tokens) or tokens[i].kind != "name":
        raise IntrinsicError("expected an intrinsic function name (States.…)")
    name = tokens[i].text
    if i + 1 >= len(tokens) or tokens[i + 1].kind != "(":
        raise IntrinsicError(f"expected ( after {name}")
    i += 2
    args: list[Arg] = []
    if i < len(tokens) and tokens[i].kind == ")":
        return Call(name, ()), i + 1
    while True:
        arg, i = _arg(tokens, i)
        args.append(arg)
        if i >= len(tokens):
            raise IntrinsicError(f"unclosed argument list of {name}")
        if tokens[i].kind == ")":
            return Call(name, tuple(args)), i + 1
        if tokens[i].kind != ",":
            raise IntrinsicError(f"expected , or ) in the arguments of {name}")
        i += 1


def _arg(tokens: list[Token], i: int) -> tuple[Arg, int]:
    if i >= len(tokens):
        raise IntrinsicError("expected an argument")
    token = tokens[i]
    if token.kind == "name":
        return _call(tokens, i)
    if token.kind == "path":
        return PathArg(token.text), i + 1
    if token.kind in ("string", "number", "literal"):
        return Literal(token.value), i + 1
    raise IntrinsicError(f"unexpected {token.text!r}")


# What each argument position of an intrinsic takes: the fixed positions, then the kind of every
# further argument. None: anything (nothing is learnt about the value passed there).
SIGNATURES: dict[str, tuple[tuple[Kind | None, ...], Kind | None]] = {
    "States.Format": (("string",), None),
    "States.StringToJson": (("string",), None),
    "States.JsonToString": ((None,), None),
    "States.Array": ((), None),
    "States.ArrayPartition": (("array", "integer"), None),
    "States.ArrayContains": (("array", None), None),
    "States.ArrayRange": (("integer", "integer", "integer"), None),
    "States.ArrayGetItem": (("array", "integer"), None),
    "States.ArrayLength": (("array",), None),
    "States.ArrayUnique": (("array",), None),
    "States.Base64Encode": (("string",), None),
    "States.Base64Decode": (("string",), None),
    "States.Hash": ((None, "string"), None),
    "States.JsonMerge": (("object", "object", "boolean"), None),
    "States.MathRandom": (("integer", "integer", "integer"), None),
    "States.MathAdd": (("integer", "integer"), None),
    "States.StringSplit": (("string", "string"), None),
    "States.UUID": ((), None),
}


def _kind_at(name: str, position: int) -> Kind | None:
    fixed, rest = SIGNATURES.get(name, ((), None))
    return fixed[position] if position < len(fixed) else rest


def eval_intrinsic(call: Call, env: PathEnv, sink: Sink | None) -> Value:
    """Report every reference in ``call`` (typed by its argument position); the value of the
    call (only ``States.ArrayGetItem`` gives back a part of the input: an element)."""
    values: list[Value] = []
    for position, arg in enumerate(call.args):
        kind = _kind_at(call.name, position)
        if isinstance(arg, Call):
            values.append(eval_intrinsic(arg, env, sink))
        elif isinstance(arg, PathArg):
            try:
                ref = parse_ref(arg.text)
            except RefError as error:
                if sink is not None:
                    sink.note(f"{call.name}: {error}", level="warning")
                values.append(UNKNOWN)
                continue
            values.append(read_ref(ref, env, sink, kind=kind))
        else:
            values.append(UNKNOWN)
    if call.name == "States.ArrayGetItem" and values:
        return get(values[0], [SOME])
    return UNKNOWN
