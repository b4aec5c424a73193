"""JSONPath references of the JSONPath query language: ``$.a.b``, ``$$.Execution.Input.x``,
``$variable.field``, parsed with jsonpath-ng (its extended parser, for filters) and read against
what the state sees.

A reference becomes its path segments (``$.detail['instance-id']`` → ``detail``,
``instance-id``; ``[0]``, ``[*]``, ``[1:2]`` and filters → an array element), how many of them
must exist for it not to fail, the comparisons its filters make, and whether it stops being
followable (a descendant search ``..``). Which root it starts from decides what it reads: the
state's input, the context object (only ``Execution.Input`` and, in an ``ItemSelector``,
``Map.Item.Value`` are the execution input) or a workflow variable.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonpath_ng import jsonpath as jp
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import filter as jp_filter
from jsonpath_ng.ext.parser import ExtendedJsonPathParser

from sfn_mcp.infer.facts import Kind, Sink, literal_text
from sfn_mcp.infer.values import SOME, UNKNOWN, Path, Segment, Value, display, get, input_paths

Root = Literal["input", "context", "variable"]

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")  # a variable's name, then a JSONPath

# jsonpath-ng builds its PLY parser anew on every parse() (about a millisecond): one is kept,
# behind a lock (a PLY parser holds state while it parses).
_PARSER: ExtendedJsonPathParser | None = None
_PARSER_LOCK = threading.Lock()


def _jsonpath(expression: str) -> Any:
    global _PARSER
    with _PARSER_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jsonpath-ng's deprecation notices
        if _PARSER is None:
            _PARSER = ExtendedJsonPathParser()
        return _PARSER.parse(expression)


class RefError(ValueError):
    """Not a JSONPath reference Step Functions would accept here."""


@dataclass(frozen=True)
class FilterRead:
    """A comparison inside ``[?( … )]``: ``relative`` below the element at segment ``element``."""

    element: int
    relative: Path
    kind: Kind | None
    nullable: bool
    compared: tuple[str, ...]


@dataclass(frozen=True)
class Ref:
    root: Root
    variable: str
    segments: Path
    strict: int  # leading segments that must exist for the reference not to fail
    filters: tuple[FilterRead, ...] = ()
    truncated: bool = False  # a step that cannot be followed (``..``): segments stop before it


@dataclass(frozen=True)
class PathEnv:
    """What a JSONPath reference can reach: ``$``, ``$$.Execution.Input``, ``$$.Map.Item.Value``
    (only while an ``ItemSelector`` is evaluated) and the workflow variables."""

    current: Value
    exec_input: Value
    item: Value | None
    variables: Mapping[str, Value]

    def with_current(self, current: Value) -> PathEnv:
        return PathEnv(current, self.exec_input, self.item, self.variables)


def is_reference(text: str) -> bool:
    return text.startswith("$")


@functools.lru_cache(maxsize=4096)
def parse_ref(text: str) -> Ref:
    text = text.strip()
    root: Root
    variable = ""
    if text.startswith("$$"):
        root, expression = "context", text[1:]
    elif text == "$" or text.startswith(("$.", "$[")):
        root, expression = "input", text
    else:
        match = _VARIABLE.match(text)
        if match is None:
            raise RefError(f"not a JSONPath reference: {text!r}")
        root, variable = "variable", match.group(1)
        expression = "$" + text[match.end() :]
    if expression == "$":
        return Ref(root, variable, (), 0)
    try:
        tree = _jsonpath(bracketed(expression))
    except (JsonPathLexerError, JsonPathParserError) as error:
        raise RefError(f"{text!r} is not a JSONPath jsonpath-ng can read: {error}") from error
    except Exception as error:  # the parser raises bare exceptions on some inputs
        raise RefError(f"{text!r} is not a JSONPath jsonpath-ng can read: {error}") from error
    return _ref_of(root, variable, tree)


def _plain(name: str) -> bool:
    """A dot-notation name jsonpath-ng's lexer reads as it is."""
    return (
        name.isascii()
        and (name[:1].isalpha() or name[:1] == "_")
        and all(c.isalnum() or c in "_-" for c in name)
    )


def bracketed(expression: str) -> str:
    """``expression`` with every dot-notation name that jsonpath-ng's lexer would refuse
    (``$.名前``, ``$.s3:bucket``) in bracket notation (``$['名前']``), which it reads whole.
    Brackets, filters and quoted names are left as they are."""
    out: list[str] = []
    i, n, depth = 0, len(expression), 0
    while i < n:
        c = expression[i]
        if c in "'\"":
            end = i + 1
            while end < n and expression[end] != c:
                end += 2 if expression[end] == "\\" else 1
            out.append(expression[i : end + 1])
            i = end + 1
            continue
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        if c == "." and depth == 0 and i + 1 < n and expression[i + 1] not in ".*'\"":
            end = i + 1
            while end < n and expression[end] not in ".[":
                end += 1
            name = expression[i + 1 : end]
            if name and not _plain(name) and not name.isdigit():
                quoted = name.replace("\\", "\\\\").replace("'", "\\'")
                out.append(f"['{quoted}']")
                i = end
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _steps(node: Any) -> list[Any]:
    if isinstance(node, jp.Child):
        return _steps(node.left) + _steps(node.right)
    if isinstance(node, jp.Root | jp.This):
        return []
    return [node]


def _ref_of(root: Root, variable: str, tree: Any) -> Ref:
    segments: list[Segment] = []
    filters: list[FilterRead] = []
    first_element: int | None = None
    definite = True
    truncated = False
    for step in _steps(tree):
        if isinstance(step, jp.Fields) and len(step.fields) == 1:
            segments.append(str(step.fields[0]))
            continue
        if isinstance(step, jp.Index | jp.Slice | jp.Wildcard | jp_filter.Filter):
            if first_element is None:
                first_element = len(segments)
            if not isinstance(step, jp.Index) or len(step.indices) != 1:
                definite = False
            if isinstance(step, jp_filter.Filter):
                for expression in step.expressions:
                    filters.extend(_filter_reads(expression, len(segments)))
            segments.append(SOME)
            continue
        if isinstance(step, jp.Descendants):
            segments.extend(s for s in _path_segments(step.left))
        truncated = True
        definite = False
        break
    if not definite:
        strict = 0
    elif first_element is not None:
        strict = first_element
    else:
        strict = len(segments)
    return Ref(root, variable, tuple(segments), strict, tuple(filters), truncated)


def _path_segments(node: Any) -> list[Segment]:
    out: list[Segment] = []
    for step in _steps(node):
        if isinstance(step, jp.Fields) and len(step.fields) == 1:
            out.append(str(step.fields[0]))
        else:
            break
    return out


_FILTER_KIND: dict[type, Kind] = {str: "string", bool: "boolean", int: "number", float: "number"}


def _filter_reads(expression: Any, element: int) -> list[FilterRead]:
    if isinstance(expression, jp_filter.And | jp_filter.Or):
        return [r for operand in expression.operands for r in _filter_reads(operand, element)]
    if isinstance(expression, jp_filter.Filter):
        return [r for inner in expression.expressions for r in _filter_reads(inner, element)]
    if not isinstance(expression, jp_filter.Expression):
        return []
    relative = tuple(_path_segments(expression.target))
    value = expression.value
    if expression.op is None or expression.op == "!" or isinstance(value, jp.JSONPath):
        return [FilterRead(element, relative, None, False, ())]
    text = literal_text(value)
    kind = _FILTER_KIND.get(type(value))
    compared = (text,) if text is not None and value is not None else ()
    return [FilterRead(element, relative, kind, value is None, compared)]


def _base(ref: Ref, env: PathEnv) -> tuple[Value, Path, int]:
    """The value the reference starts from, the segments still to follow and how many of
    those must exist."""
    if ref.root == "input":
        return env.current, ref.segments, ref.strict
    if ref.root == "variable":
        return env.variables.get(ref.variable, UNKNOWN), ref.segments, ref.strict
    segments = ref.segments
    if segments[:2] == ("Execution", "Input"):
        return env.exec_input, segments[2:], max(0, ref.strict - 2)
    if segments[:3] == ("Map", "Item", "Value") and env.item is not None:
        return env.item, segments[3:], max(0, ref.strict - 3)
    return UNKNOWN, (), 0


def read_ref(
    ref: Ref,
    env: PathEnv,
    sink: Sink | None,
    *,
    strict: bool = True,
    kind: Kind | None = None,
    date_time: bool = False,
    nullable: bool = False,
    compared: tuple[str, ...] = (),
) -> Value:
    """The value ``ref`` reads, each read reported to ``sink`` (``strict``: a missing path makes
    the read fail, as it does in ``Parameters``; not so in a Choice rule after the first)."""
    base, segments, must = _base(ref, env)
    value = get(base, segments)
    if sink is None:
        return UNKNOWN if ref.truncated else value
    whole = strict and must == len(segments) and not ref.truncated
    if strict and 0 < must < len(segments):
        sink.touch(get(base, segments[:must]), strict=True)
    sink.touch(
        value,
        strict=whole,
        kind=None if ref.truncated else kind,
        date_time=date_time,
        nullable=nullable,
        compared=compared,
    )
    for found in ref.filters:
        element = get(base, segments[: found.element + 1])
        sink.touch(
            get(element, found.relative),
            kind=found.kind,
            nullable=found.nullable,
            compared=found.compared,
        )
    if ref.truncated:
        for path in input_paths(value):
            sink.note(
                f"a descendant or unsupported JSONPath step below `{display(path)}` is not "
                "followed: what it reads there cannot be seen"
            )
        return UNKNOWN
    return value
