"""Checking a tool's arguments before anything runs, and the short messages that say what is wrong.

First the limits, before anything that costs time in proportion to the arguments: their JSON size
(Step Functions takes at most ``MAX_INPUT_BYTES`` of input) and their nesting depth, measured
without recursion and without building their JSON. Then the published schema decides
(``Tool.input_schema``, JSON Schema 2020-12 with formats checked), with a second try for object
or array arguments a client sent as JSON text; large arguments are checked on a worker thread, so
the event loop keeps serving other requests. Then the input model is made from the arguments,
only to type them: what the workflow receives is the arguments themselves, exactly as they
validated (``definitions.carrying_arguments``). Messages name the field, are at most
``MAX_REPORTED_ERRORS`` lines, and never repeat the value that was sent.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import anyio
import anyio.to_thread
from pydantic import BaseModel, ValidationError

from .definitions import Tool, carrying_arguments, json_depth
from .execution import MAX_INPUT_BYTES

logger = logging.getLogger("sfn_mcp.runtime")

MAX_REPORTED_ERRORS = 20
MAX_NAME = 60  # characters of a property name quoted in a message
MAX_PATH = 160  # characters of a field's path in a message
# Levels of objects and arrays the arguments may nest, their own object included: far beyond
# any schema's, and far below where checking them would exhaust Python's recursion limit.
MAX_DEPTH = 64
# Arguments up to this size (their JSON, at least) are checked on the event loop: that takes a
# few milliseconds at most. Larger ones are checked on a worker thread.
INLINE_CHECK_BYTES = 16 * 1024
VALIDATION_THREADS = 4
Path = tuple[str | int, ...]


def _invalid(tool: Tool[Any]) -> str:
    started = "; nothing was started" if tool.workflow else ""
    return f"Invalid arguments for {tool.name}{started}:"


def _where(path: Iterable[str | int]) -> str:
    parts = [str(p) if len(str(p)) <= MAX_NAME else f"{str(p)[:MAX_NAME]}…" for p in path]
    where = ".".join(parts) or "(arguments)"
    if len(where) > MAX_PATH:  # a deep path: its start and its end
        where = f"{where[: MAX_PATH // 2]}…{where[-MAX_PATH // 2 :]}"
    return where


def _message(tool: Tool[Any], problems: list[tuple[Path, str]], *, extra_at_top: bool) -> str:
    lines = [_invalid(tool)]
    lines += [f"- {_where(path)}: {text}" for path, text in problems[:MAX_REPORTED_ERRORS]]
    if len(problems) > MAX_REPORTED_ERRORS:
        lines.append(f"- … and {len(problems) - MAX_REPORTED_ERRORS} more")
    known = ", ".join(tool.input_schema.get("properties", {}))
    if extra_at_top and known:
        lines.append(f"Arguments this tool takes: {known}")
    return "\n".join(lines)


def validation_message(tool: Tool[Any], exc: ValidationError) -> str:
    """What the input model refused (tools whose schema is the model's own)."""
    errors = exc.errors(include_url=False)
    problems = [(tuple(error["loc"]), str(error["msg"])) for error in errors]
    extra = any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors)
    return _message(tool, problems, extra_at_top=extra)


# ------------------------------------------------------------------------ the limits


def _scalar_bytes(value: Any) -> int:
    """At least as many bytes as ``value`` takes as JSON (cheap: no conversion to text)."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, bool):
        return 4 if value else 5
    if isinstance(value, int):  # its digits, at least: no str() of a huge number
        return value.bit_length() * 3 // 10 + 1
    return 4 if value is None else 1


def measure(arguments: Any, max_bytes: int, max_depth: int) -> tuple[int, str | None]:
    """A lower bound of the JSON size of ``arguments`` in bytes, and the top-level field nested
    deeper than ``max_depth`` levels of objects and arrays (``"(arguments)"`` for the arguments
    themselves), or None.

    Without recursion, and stopping as soon as the size passes ``max_bytes`` or a level passes
    ``max_depth``. A container's punctuation is counted before its items are looked at, so a
    million-item array is refused at once, and no more than ``max_bytes`` items are visited."""
    if not isinstance(arguments, dict | list):
        return _scalar_bytes(arguments), None
    size = 0
    pending: list[tuple[Any, int, str | None]] = [(arguments, 1, None)]
    while pending:
        value, depth, field = pending.pop()
        if depth > max_depth:
            return size, "(arguments)" if field is None else field
        is_object = isinstance(value, dict)
        # {"k":v,…} takes 4 bytes per member besides keys and values; [v,…] 1 per item
        size += max(2, 1 + (4 if is_object else 1) * len(value))
        if size > max_bytes:
            return size, None
        if is_object:
            for key, item in value.items():
                size += len(key) if isinstance(key, str) else 1
                if isinstance(item, dict | list):
                    pending.append((item, depth + 1, str(key) if field is None else field))
                else:
                    size += _scalar_bytes(item)
        else:
            for item in value:
                if isinstance(item, dict | list):
                    pending.append((item, depth + 1, field))
                else:
                    size += _scalar_bytes(item)
        if size > max_bytes:
            return size, None
    return size, None


def _too_deep(tool: Tool[Any], field: str) -> str:
    path: Path = () if field == "(arguments)" else (field,)
    text = f"Input is nested too deeply: the arguments nest at most {MAX_DEPTH} levels of "
    text += "objects and arrays"
    return _message(tool, [(path, text)], extra_at_top=False)


def _limits(tool: Tool[Any], arguments: dict[str, Any]) -> tuple[int, str | None]:
    """The size of ``arguments`` (a lower bound), and what says they break a limit, if they do."""
    size, deep = measure(arguments, MAX_INPUT_BYTES, MAX_DEPTH)
    if size > MAX_INPUT_BYTES:
        limit = "Step Functions accepts" if tool.workflow else "this tool takes"
        return size, (
            f"{_invalid(tool)}\n- (arguments): the arguments are more than {MAX_INPUT_BYTES} "
            f"bytes as JSON; {limit} at most {MAX_INPUT_BYTES} bytes of input"
        )
    if deep is not None:
        return size, _too_deep(tool, deep)
    return size, None


_THREADS: list[anyio.CapacityLimiter] = []


def _validation_threads() -> anyio.CapacityLimiter:
    """A few worker threads for checking large arguments, apart from anyio's default pool (the
    stdio transport reads and writes with it) and from the AWS calls' pools."""
    if not _THREADS:
        _THREADS.append(anyio.CapacityLimiter(VALIDATION_THREADS))
    return _THREADS[0]


async def check_arguments(tool: Tool[Any], arguments: dict[str, Any]) -> BaseModel | str:
    """The input model carrying the arguments as they validated, or the message that says what
    is wrong with them. The limits come first; the schema is checked on the event loop for small
    arguments, and on a worker thread for large ones."""
    size, refused = _limits(tool, arguments)
    if refused is not None:
        return refused
    if size <= INLINE_CHECK_BYTES:
        return _checked(tool, arguments)
    return await anyio.to_thread.run_sync(
        _checked, tool, arguments, limiter=_validation_threads(), abandon_on_cancel=True
    )


def _checked(tool: Tool[Any], arguments: dict[str, Any]) -> BaseModel | str:
    """``_validate``, with any recursion too deep for Python (past the depth limit, in a schema
    that recurses) reported as an invalid field, never raised."""
    try:
        return _validate(tool, arguments)
    except RecursionError:
        deepest = max(arguments, key=lambda key: json_depth(arguments[key]), default=None)
        logger.warning("%s: the arguments were nested too deeply to check", tool.name)
        return _message(
            tool,
            [((deepest,) if deepest else (), "Input is nested too deeply to check")],
            extra_at_top=False,
        )


# ------------------------------------------------------------------------ the schema's errors


def _value(value: Any) -> str:
    """A value from the schema (never from the arguments), short."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else f"{text[:80]}…"


def _one_of(values: list[Any]) -> str:
    shown = [_value(v) for v in values[:10]]
    if len(values) > 10:
        shown.append(f"… ({len(values) - 10} more)")
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


TYPE_NAMES = {
    "string": "a valid string",
    "integer": "a valid integer",
    "number": "a valid number",
    "boolean": "a valid boolean",
    "array": "a valid list",
    "object": "a valid object",
    "null": "null",
}
SIMPLE = {
    "minLength": "String should have at least {} character(s)",
    "maxLength": "String should have at most {} character(s)",
    "minimum": "Input should be greater than or equal to {}",
    "maximum": "Input should be less than or equal to {}",
    "exclusiveMinimum": "Input should be greater than {}",
    "exclusiveMaximum": "Input should be less than {}",
    "multipleOf": "Input should be a multiple of {}",
    "minItems": "List should have at least {} item(s)",
    "maxItems": "List should have at most {} item(s)",
    "minProperties": "Object should have at least {} propert(ies)",
    "maxProperties": "Object should have at most {} propert(ies)",
    "minContains": "List should contain at least {} matching item(s)",
    "maxContains": "List should contain at most {} matching item(s)",
}


def _unexpected(error: Any) -> list[str]:
    """The names ``additionalProperties: false`` (or ``unevaluatedProperties: false``) refused."""
    instance, schema = error.instance, error.schema
    if not isinstance(instance, dict):
        return []
    if error.validator == "additionalProperties":
        named = schema.get("properties") or {}
        patterns = list(schema.get("patternProperties") or {})
        return [
            name
            for name in instance
            if name not in named and not any(re.search(p, name) for p in patterns)
        ]
    # unevaluatedProperties: jsonschema names them only in its message, each as repr(name)
    listed = error.message.partition("(")[2]
    return [name for name in instance if repr(name) in listed] or ["(unexpected names)"]


def _described(error: Any) -> Iterator[tuple[Path, str]]:
    """One line per problem: where (the field, by its wire name) and what, in pydantic's words
    where pydantic has them; the argument's value is never repeated."""
    path: Path = tuple(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = [n for n in value if isinstance(error.instance, dict) and n not in error.instance]
        for name in missing:
            yield (*path, name), "Field required"
    elif kind == "dependentRequired":
        for name, needed in value.items():
            if isinstance(error.instance, dict) and name in error.instance:
                for other in needed:
                    if other not in error.instance:
                        yield (*path, other), f"Field required when {_where([name])} is given"
    elif kind in ("additionalProperties", "unevaluatedProperties") and value is False:
        for name in _unexpected(error):
            yield (*path, name), "Extra inputs are not permitted"
    elif kind == "items" and value is False:  # beyond prefixItems
        yield path, f"List should have at most {len(error.schema.get('prefixItems') or [])} item(s)"
    elif kind == "unevaluatedItems" and value is False:
        yield path, "List has more items than this field allows"
    elif kind == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        yield path, "Input should be " + " or ".join(TYPE_NAMES.get(k, k) for k in kinds)
    elif kind == "enum":
        yield path, f"Input should be {_one_of(list(value))}"
    elif kind == "const":
        yield path, f"Input should be {_value(value)}"
    elif kind == "pattern":
        yield path, f"String should match pattern {_value(value)}"
    elif kind == "format":
        yield path, f"Input should be a valid {value} value"
    elif kind == "uniqueItems":
        yield path, "List should have unique items"
    elif kind in SIMPLE:
        yield path, SIMPLE[kind].format(_value(value))
    elif kind in ("anyOf", "oneOf") and error.context:  # no form matched
        yield from _closest_form(error, path)
    elif kind == "oneOf":  # valid under several
        yield path, "Input matches more than one of the allowed forms"
    elif kind == "contains":
        yield path, "List should contain at least one matching item"
    elif kind == "not" and value == {}:  # the schema nothing matches: nothing may be here
        yield path, "Extra inputs are not permitted"
    elif kind == "not":
        yield path, "Input is of a form this field does not allow"
    elif kind == "propertyNames":
        yield path, "A property name is not allowed here"
    elif kind is False or error.schema is False:
        yield path, "No value is allowed here"
    else:
        message = error.message
        yield path, message if len(message) <= 120 else f"{kind}: the input does not match"


def _fits(error: Any) -> bool:
    """Whether the value has the type the failing schema asks for (if it asks)."""
    from jsonschema import Draft202012Validator

    kind = error.schema.get("type") if isinstance(error.schema, dict) else None
    if kind is None:
        return True
    kinds = [kind] if isinstance(kind, str) else list(kind)
    checker = Draft202012Validator.TYPE_CHECKER
    return any(checker.is_type(error.instance, k) for k in kinds if isinstance(k, str))


def _closest_form(error: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """For ``anyOf`` / ``oneOf`` that no form matched: the errors of the form the value comes
    closest to (of its type, fewest errors), or what types the forms take."""
    forms: dict[Any, list[Any]] = {}
    for sub in error.context:
        forms.setdefault(sub.relative_schema_path[0], []).append(sub)
    depth = len(error.absolute_path)
    fitting = [  # forms of the value's type: what failed inside them is what is wrong
        subs
        for subs in forms.values()
        if all(_fits(sub) for sub in subs if len(sub.absolute_path) == depth)
    ]
    if fitting:
        # the form whose errors are deepest (it took the value's shape), then with fewest errors
        closest = min(
            fitting, key=lambda subs: (-min(len(s.absolute_path) for s in subs) + depth, len(subs))
        )
        for sub in closest:
            yield from _described(sub)
        return
    kinds = [
        sub.validator_value
        for subs in forms.values()
        for sub in subs
        if sub.validator == "type" and sub.absolute_path == error.absolute_path
    ]
    names = [TYPE_NAMES.get(k, str(k)) for v in kinds for k in ([v] if isinstance(v, str) else v)]
    if names:
        yield path, "Input should be " + " or ".join(dict.fromkeys(names))
    else:
        yield path, "Input does not match any of the allowed forms"


def _sort_key(item: tuple[Path, str]) -> tuple[Any, ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in item[0])


def _pointer(root: Any, ref: str) -> Any:
    """The node a local JSON pointer (``#/$defs/A``) names in ``root``, or None."""
    node = root
    for token in ref[1:].split("/")[1:] if ref.startswith("#/") else []:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node.get(token) if isinstance(node, dict) else None
    return node if ref.startswith("#") else None


def _declared(schema: Any, root: Any, seen: frozenset[str] = frozenset()) -> set[str]:
    """The property names ``schema`` and the schemas it applies in place declare."""
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties") or {})
    parts = [*(schema.get("allOf") or []), *(schema.get("anyOf") or [])]
    parts += [*(schema.get("oneOf") or []), *(schema.get("dependentSchemas") or {}).values()]
    parts += [schema[key] for key in ("then", "else") if key in schema]
    for part in parts:
        names |= _declared(part, root, seen)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        names |= _declared(_pointer(root, ref), root, seen | {ref})
    return names


def _schema_problems(tool: Tool[Any], arguments: dict[str, Any]) -> list[tuple[Path, str]]:
    try:
        errors = list(tool.schema_validator.iter_errors(arguments))
    except RecursionError:
        return [((), "the arguments are nested too deeply to check")]
    problems: list[tuple[Path, str]] = []
    unevaluated: list[tuple[Path, str, set[str]]] = []
    for error in errors:
        for line in _described(error):
            if error.validator == "unevaluatedProperties":
                unevaluated.append((*line, _declared(error.schema, tool.input_schema)))
            else:
                problems.append(line)
    for path, text, declared in unevaluated:
        # A name a failing part declares is "unevaluated" only because that part failed: its
        # error says what is wrong. Other names are extra, and so is any name with no other error.
        inside = any(p[: len(path) - 1] == path[:-1] for p, _ in problems)
        if not (inside and path[-1] in declared):
            problems.append((path, text))
    if errors and not problems:
        problems.append(((), "The arguments do not match the tool's schema"))
    return sorted(dict.fromkeys(problems), key=_sort_key)


def _decode_json_strings(arguments: dict[str, Any], failed: set[str]) -> dict[str, Any]:
    """Some clients send object or array arguments as JSON text. For the top-level arguments that
    failed validation only, decode string values that look like a JSON object or array."""
    decoded = dict(arguments)
    for key in failed:
        value = arguments.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError, RecursionError):
                decoded[key] = json.loads(value)
    return decoded


def _validate(tool: Tool[Any], arguments: dict[str, Any]) -> BaseModel | str:
    """The input model carrying the arguments as they validated, or the message that says which
    arguments are wrong (within the limits: ``_limits`` has passed them)."""
    problems = _schema_problems(tool, arguments)
    if problems:
        failed = {str(path[0]) for path, _ in problems if path}
        decoded = _decode_json_strings(arguments, failed)
        if decoded != arguments:  # report against what the decoding made of the arguments
            # JSON text that decodes to something too deep (a field is a level below them)
            for key in sorted(failed):
                if json_depth(decoded.get(key), MAX_DEPTH - 1) >= MAX_DEPTH:
                    return _too_deep(tool, key)
            problems = _schema_problems(tool, decoded)
            arguments = decoded
    if problems:
        extra = any(len(p) == 1 and text.startswith("Extra inputs") for p, text in problems)
        return _message(tool, problems, extra_at_top=extra)
    model: type[BaseModel] = tool.input_model
    try:
        validated = model.model_validate(arguments)
    except ValidationError as exc:
        if tool.schema is None:  # the model is the contract: what it refuses is wrong
            return validation_message(tool, exc)
        # The schema is the contract and the arguments meet it; the generated model is only
        # their Python type, and must not refuse them. The workflow gets them as sent.
        logger.warning(
            "%s: the arguments match the published schema but not the model %s (%d error(s), "
            "first at %s); they are passed on as sent",
            tool.name,
            model.__name__,
            exc.error_count(),
            _where(exc.errors()[0]["loc"]) if exc.error_count() else "-",
        )
        try:
            validated = model.model_construct(**arguments)
        except Exception:  # a name model_construct takes itself; the model is only a carrier
            validated = model.model_construct()
    return carrying_arguments(validated, arguments)
