"""JSON, and JSON with comments (JSONC), read and edited as text.

``set_member(parse(text, comments=...), ["a", "b"], value)`` sets member ``"b"`` of the object
at ``"a"`` to ``value`` and returns the new text, with every other character of ``text`` where
it was. Nothing here knows what the document is for.

- **JSONC** is JSON plus ``//`` and ``/* */`` comments and trailing commas (what VS Code reads
  for its settings files). ``strip_jsonc`` blanks those out without moving any other character,
  so the positions found in its result, and the line and column of a ``json`` error, hold for
  the original text. ``parse(text, comments=False)`` takes strict JSON only, and says when a
  text fails just because of its comments or trailing commas.
- **Minimal edits.** When the member exists, only its value is replaced; otherwise a new member
  is inserted after the last one of the innermost object that exists (with the missing objects
  of the path around the value). Every other member, their order, the text's formatting and its
  comments stay byte for byte; a comma and a comment that follow the last value on its line stay
  with it.
- **Layout.** New text follows the document: its indentation unit (that of the first top-level
  member, else two spaces), the indentation of the member being replaced or followed, one-line
  objects kept on one line, and the text's line ending (``\\r\\n`` when it has any). Objects and
  lists of objects are written one member a line; a list of plain values stays on one line.
- **Refusals.** A value that holds comments (or trailing commas) is not replaced, since its
  rewrite would lose them; a key present twice on the path is not guessed at. The edited text is
  parsed back and compared, order included, with the intended document; a mismatch (a layout the
  edit could not follow) is an error rather than a wrong file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CommentsInside",
    "Document",
    "DuplicateKey",
    "EditMismatch",
    "JsoncError",
    "JsoncSyntaxError",
    "NotAnObject",
    "dump",
    "newline_of",
    "parse",
    "set_member",
    "strip_jsonc",
]

_WS = " \t\r\n"


class JsoncError(ValueError):
    """A text that cannot be read, or a member that cannot be set without a loss."""


class JsoncSyntaxError(JsoncError):
    """Not valid JSON (or not valid JSON with comments, where those are allowed).

    ``valid_jsonc`` is true when the text is valid JSON with comments: only its comments or
    trailing commas are in the way (``parse(..., comments=False)``). ``lineno`` and ``colno``
    count from 1, like those of ``json.JSONDecodeError``.
    """

    def __init__(self, msg: str, lineno: int, colno: int, *, valid_jsonc: bool) -> None:
        super().__init__(f"{msg}: line {lineno} column {colno}")
        self.msg = msg
        self.lineno = lineno
        self.colno = colno
        self.valid_jsonc = valid_jsonc

    @classmethod
    def of(cls, error: json.JSONDecodeError, *, valid_jsonc: bool) -> JsoncSyntaxError:
        return cls(error.msg, error.lineno, error.colno, valid_jsonc=valid_jsonc)


class DuplicateKey(JsoncError):
    """A key on the path occurs more than once in its object."""

    def __init__(self, key: str, count: int) -> None:
        super().__init__(f'the key "{key}" occurs {count} times')
        self.key = key
        self.count = count


class CommentsInside(JsoncError):
    """The value to replace holds comments or trailing commas, which its rewrite would lose."""

    def __init__(self, key: str) -> None:
        super().__init__(f'the value of "{key}" has comments inside it')
        self.key = key


class NotAnObject(JsoncError):
    """The top level, or the value of a key on the path, is not an object."""

    def __init__(self, key: str | None) -> None:
        where = "the top level" if key is None else f'the value of "{key}"'
        super().__init__(f"{where} is not an object")
        self.key = key


class EditMismatch(JsoncError):
    """The edited text does not parse back to the intended document (``expected``)."""

    def __init__(self, expected: Any) -> None:
        super().__init__("the edited text does not parse back to the intended document")
        self.expected = expected


@dataclass(frozen=True)
class Document:
    """A parsed text: the text itself, its data, the text with comments and trailing commas
    blanked out (the same positions; ``text`` itself when it had none) and whether it had any."""

    text: str
    data: Any
    stripped: str
    commented: bool


def _string_end(text: str, i: int) -> int:
    """Index after the JSON string starting at ``text[i] == '"'``."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    return len(text)


def strip_jsonc(text: str) -> tuple[str, bool]:
    """Blank out comments and trailing commas, keeping every other character where it was.

    The result has the same length and line breaks as ``text``, so positions found in it (and
    ``json`` error lines) hold for the original. Returns the text and whether anything changed.
    """
    out = list(text)
    changed = False
    last_comma: int | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
            last_comma = None
            continue
        if c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:  # unterminated: leave it for the JSON parser to report
                break
            end += 2
        else:
            if c in "}]" and last_comma is not None:
                out[last_comma] = " "
                changed = True
            if c == ",":
                last_comma = i
            elif c not in _WS:
                last_comma = None
            i += 1
            continue
        for k in range(i, end):
            if out[k] not in "\r\n":
                out[k] = " "
        changed = True
        i = end
    return "".join(out), changed


def parse(text: str, *, comments: bool) -> Document:
    """Parse ``text`` as JSON, or as JSON with comments when ``comments`` is true.

    Raises ``JsoncSyntaxError``. Without ``comments``, a text that is valid JSONC is reported at
    the strict parser's position with ``valid_jsonc`` set; with ``comments``, an invalid text is
    reported where the comment-free text fails.
    """
    try:
        return Document(text, json.loads(text), text, False)
    except json.JSONDecodeError as strict:
        stripped, changed = strip_jsonc(text)
        error = strict
        if changed:
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError as loose:
                error = loose if comments else strict
            else:
                if comments:
                    return Document(text, data, stripped, True)
                raise JsoncSyntaxError.of(strict, valid_jsonc=True) from None
        raise JsoncSyntaxError.of(error, valid_jsonc=False) from None


def newline_of(text: str) -> str:
    """The line ending of ``text``: ``\\r\\n`` when it has any, else ``\\n``."""
    return "\r\n" if "\r\n" in text else "\n"


def dump(value: Any, indent: str | None = "", unit: str = "  ") -> str:
    """``value`` as JSON: on one line when ``indent`` is None, else pretty with continuation
    lines prefixed by ``indent`` and nested by ``unit``; lists of plain values stay on one line."""
    if indent is None or not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + unit
    if isinstance(value, dict):
        items = [
            f"{json.dumps(k, ensure_ascii=False)}: {dump(v, inner, unit)}" for k, v in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [dump(v, inner, unit) for v in value]
        opening, closing = "[", "]"
    body = ",\n".join(inner + item for item in items)
    return f"{opening}\n{body}\n{indent}{closing}"


def set_member(doc: Document, path: Sequence[str], value: Any) -> str:
    """The text of ``doc`` with member ``path[-1]`` of the object at ``path[:-1]`` set to
    ``value``; missing objects on the path are created. Raises ``NotAnObject``,
    ``DuplicateKey``, ``CommentsInside`` or ``EditMismatch`` (see the module docstring)."""
    if not path:
        raise ValueError("set_member needs a path of at least one key")
    _, top = _scan(doc.stripped, _skip(doc.stripped, 0))
    if top is None:
        raise NotAnObject(None)
    first = top.members[0] if top.members else None
    unit = (_indent_of(doc.text, first.key_start) if first else None) or "  "
    edits = _member_edits(doc.text, doc.stripped, top, path, value, unit)
    new = _apply(doc.text, edits, newline_of(doc.text))
    expected = _with_member(doc.data, path, value)
    try:
        reparsed = json.loads(strip_jsonc(new)[0] if doc.commented else new)
    except json.JSONDecodeError:
        reparsed = None
    if reparsed is None or _ordered(reparsed) != _ordered(expected):
        raise EditMismatch(expected)
    return new


# --- Spans of the comment-free text -------------------------------------------------------------


@dataclass
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int
    value: _Object | None  # set when the value is an object


@dataclass
class _Object:
    open: int
    close: int = -1
    members: list[_Member] = field(default_factory=list)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _scan(text: str, i: int) -> tuple[int, _Object | None]:
    """Spans of the (already validated, comment-free) JSON value at ``i``: its end, and for an
    object its members."""
    c = text[i]
    if c == "{":
        obj = _Object(open=i)
        i = _skip(text, i + 1)
        while text[i] != "}":
            key_start = i
            i = _string_end(text, i)
            key = json.loads(text[key_start:i])
            i = _skip(text, _skip(text, i) + 1)  # past the colon
            value_start = i
            i, child = _scan(text, i)
            obj.members.append(_Member(key, key_start, value_start, i, child))
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        obj.close = i
        return i + 1, obj
    if c == "[":
        i = _skip(text, i + 1)
        while text[i] != "]":
            i, _ = _scan(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return i + 1, None
    if c == '"':
        return _string_end(text, i), None
    while i < len(text) and text[i] not in ",}]" + _WS:
        i += 1
    return i, None


# --- Edits of the original text ------------------------------------------------------------------

_Edit = tuple[int, int, str]  # replace text[start:end] with the string


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_of(text: str, pos: int) -> str | None:
    """The indentation of the line ``pos`` is on, or None when something precedes it there."""
    start = _line_start(text, pos)
    prefix = text[start:pos]
    return prefix if not prefix.strip() else None


def _line_indent(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _single(obj: _Object, key: str) -> _Member | None:
    found = [member for member in obj.members if member.key == key]
    if len(found) > 1:
        raise DuplicateKey(key, len(found))
    return found[0] if found else None


def _nested(path: Sequence[str], value: Any) -> Any:
    """``value`` inside the objects named by ``path``."""
    for key in reversed(path):
        value = {key: value}
    return value


def _with_member(data: Any, path: Sequence[str], value: Any) -> Any:
    """``data`` with ``path`` set to ``value``: an existing key keeps its place, a new one goes
    last."""
    key, rest = path[0], path[1:]
    result = dict(data)
    if rest:
        inner = result.get(key)
        value = _with_member(inner if isinstance(inner, dict) else {}, rest, value)
    result[key] = value
    return result


def _member_edits(
    text: str, stripped: str, obj: _Object, path: Sequence[str], value: Any, unit: str
) -> list[_Edit]:
    key, rest = path[0], path[1:]
    member = _single(obj, key)
    if member is None:
        return _insert_member(text, obj, key, _nested(rest, value), unit)
    if rest:
        if member.value is None:
            raise NotAnObject(key)
        return _member_edits(text, stripped, member.value, rest, value, unit)
    span = slice(member.value_start, member.value_end)
    if text[span] != stripped[span]:
        raise CommentsInside(key)
    indent = _indent_of(text, member.key_start)
    return [(member.value_start, member.value_end, dump(value, indent, unit))]


def _insert_member(text: str, obj: _Object, key: str, value: Any, unit: str) -> list[_Edit]:
    """Edits that add ``"key": value`` as the last member of ``obj``."""
    if not obj.members:
        outer = _line_indent(text, obj.open)
        inner = text[obj.open + 1 : obj.close].rstrip()  # comments in an empty object stay
        member = f"{json.dumps(key)}: {dump(value, outer + unit, unit)}"
        return [(obj.open + 1, obj.close, f"{inner}\n{outer}{unit}{member}\n{outer}")]
    last = obj.members[-1]
    indent = _indent_of(text, last.key_start)
    member = f"{json.dumps(key)}: {dump(value, indent, unit)}"
    if indent is None:  # a one-line object: stay on its line
        return [(last.value_end, last.value_end, ", " + member)]
    # Insert after the last value's line: its comma and comments on that line stay with it.
    end = pos = last.value_end
    has_comma = False
    while pos < obj.close:
        if text[pos] in " \t":
            pos += 1
        elif text[pos] == "," and not has_comma:  # a trailing comma (JSONC)
            has_comma = True
            pos += 1
        elif text.startswith("/*", pos) and "\n" not in text[pos : text.find("*/", pos)]:
            pos = text.find("*/", pos) + 2
        elif text.startswith("//", pos):
            pos = text.find("\n", pos)
            if text[pos - 1] == "\r":  # insert before the line's \r\n, not inside it
                pos -= 1
            break
        else:
            break
    addition = f"\n{indent}{member}"
    if has_comma:
        return [(pos, pos, addition)]
    if pos == end:
        return [(end, end, "," + addition)]
    return [(end, end, ","), (pos, pos, addition)]


def _apply(text: str, edits: list[_Edit], newline: str) -> str:
    """``edits`` applied to ``text``, their line breaks written as ``newline``."""
    for start, end, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        # An edit can carry \r\n of the original text (an empty object's comments).
        new = new.replace("\r\n", "\n").replace("\n", newline)
        text = text[:start] + new + text[end:]
    return text


def _ordered(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # dict order kept: equal text = same order
