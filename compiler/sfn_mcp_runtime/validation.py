"""Checking a tool's arguments before anything runs: the input model first (with a second try
for object or array arguments a client sent as JSON text), then the published schema where it
says more than the model (``uniqueItems``); and the short messages that say what is wrong.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from pydantic import BaseModel, ValidationError

from .definitions import Tool

MAX_REPORTED_ERRORS = 20


def _invalid(tool: Tool[Any]) -> str:
    started = "; nothing was started" if tool.workflow else ""
    return f"Invalid arguments for {tool.name}{started}:"


def validation_message(tool: Tool[Any], exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    lines = [_invalid(tool)]
    for error in errors[:MAX_REPORTED_ERRORS]:
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        lines.append(f"- {where}: {error['msg']}")
    if len(errors) > MAX_REPORTED_ERRORS:
        lines.append(f"- … and {len(errors) - MAX_REPORTED_ERRORS} more")
    if any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors):
        known = ", ".join(tool.input_schema.get("properties", {}))
        lines.append(f"Arguments this tool takes: {known}")
    return "\n".join(lines)


def _decode_json_strings(arguments: dict[str, Any], exc: ValidationError) -> dict[str, Any]:
    """Some clients send object or array arguments as JSON text. For the top-level arguments that
    failed validation only, decode string values that look like a JSON object or array."""
    failed = {error["loc"][0] for error in exc.errors() if error["loc"]}
    decoded = dict(arguments)
    for key in failed:
        value = arguments.get(str(key))
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                decoded[str(key)] = json.loads(value)
    return decoded


def _validate(tool: Tool[Any], arguments: dict[str, Any]) -> BaseModel | str:
    """The input model, or the message that says which arguments are wrong. The model checks
    first; then the published schema, for what pydantic does not enforce (``uniqueItems``)."""
    model: type[BaseModel] = tool.input_model
    try:
        validated = model.model_validate(arguments)
    except ValidationError as exc:
        decoded = _decode_json_strings(arguments, exc)
        try:
            validated = model.model_validate(decoded)
        except ValidationError as retry:
            # report against what the decoding made of the arguments, if it changed anything
            return validation_message(tool, retry if decoded != arguments else exc)
        arguments = decoded
    problems = _schema_problems(tool, arguments)
    if problems:
        return "\n".join([_invalid(tool), *problems[:MAX_REPORTED_ERRORS]])
    return validated


def _schema_problems(tool: Tool[Any], arguments: dict[str, Any]) -> list[str]:
    validator = tool.schema_validator
    if validator is None:
        return []
    return [
        f"- {'.'.join(str(p) for p in error.absolute_path) or '(arguments)'}: {error.message}"
        for error in sorted(validator.iter_errors(arguments), key=lambda e: str(list(e.path)))
    ]
