"""Stage 3, models: EventBridge schemas → Pydantic v2 modules with datamodel-code-generator.

One module per schema keeps class names as the schema wrote them (no ``Address1``). For an
EventBridge ``AWSEvent`` envelope the tool input is the ``detail`` model; the envelope's source and
detail-type (vendor keys the generator drops) are read here from the source document.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tempfile
import tokenize
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.models.profile import Profile, profiled
from sfn_mcp.models.published import (
    check_published,
    for_the_generator,
    published_document,
    python_literal,
)
from sfn_mcp.naming import pascal_case
from sfn_mcp.read.records import INFERRED, Role, SchemaSource
from sfn_mcp.schema_refs import resolves


@dataclass(frozen=True)
class EventInfo:
    source: str
    detail_type: str


@dataclass(frozen=True)
class GeneratedModel:
    source: str
    root_class: str
    description: str
    event: EventInfo | None
    properties: tuple[str, ...] = ()  # the root object's property names, as the schema spells them
    # What the tool publishes as inputSchema (inputs only): also INPUT_SCHEMA in ``source``.
    input_schema: dict[str, Any] | None = None


def _label(schema: SchemaSource) -> str:
    return f"schema {schema.ref.registry}/{schema.ref.name} v{schema.version}"


# JSON levels a schema document may nest: an object property costs two (``properties``, then the
# name), so this admits fields 64 objects deep, as deep as the server accepts arguments, and
# keeps the generator (which recurses) well inside Python's stack.
MAX_SCHEMA_DEPTH = 160


def _depth(value: Any, limit: int) -> int:
    """Levels of objects and arrays in ``value``, walked without recursion; past ``limit`` the
    walk stops and answers ``limit + 1``."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        pending.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _parse(schema: SchemaSource) -> dict[str, Any]:
    try:
        document = json.loads(schema.content)
    except RecursionError:
        document = None  # deeper than Python's parser goes: reported as too deep below
    except ValueError as exc:
        raise CompileError(f"{_label(schema)} is not valid JSON: {exc}") from exc
    if document is None or (
        isinstance(document, dict) and _depth(document, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH
    ):
        raise CompileError(
            f"{_label(schema)} nests more than {MAX_SCHEMA_DEPTH} levels of JSON; sfn-mcp "
            "compiles schemas up to that depth (the server refuses arguments nested deeper "
            "than 64 levels anyway)",
            hint="flatten the schema, or move repeated shapes into definitions referenced by $ref",
        )
    if not isinstance(document, dict):
        raise CompileError(f"{_label(schema)} must be a JSON object")
    return document


def _ref_name(ref: Any) -> str | None:
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return ref.rsplit("/", 1)[1]
    return None


def _get(node: Any, key: str) -> dict[str, Any]:
    """``node[key]`` when both are JSON objects, else an empty object (malformed documents)."""
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def _openapi_root(schema: SchemaSource, document: dict[str, Any]) -> tuple[str, EventInfo | None]:
    components = _get(_get(document, "components"), "schemas")
    if not components:
        raise CompileError(f"{_label(schema)} has no components.schemas to build an input from")
    envelope = components.get("AWSEvent")
    if isinstance(envelope, dict):
        detail = _ref_name(_get(_get(envelope, "properties"), "detail").get("$ref"))
        if detail and detail in components:
            source = envelope.get("x-amazon-events-source")
            detail_type = envelope.get("x-amazon-events-detail-type")
            event = (
                EventInfo(str(source), str(detail_type))
                if isinstance(source, str) and isinstance(detail_type, str)
                else None
            )
            return detail, event
    referenced = {  # by another component: a recursive one still is a root
        target
        for name, component in components.items()
        for target in (_ref_name(r) for r in _all_refs(component))
        if target is not None and target != name
    }
    roots = sorted(set(components) - referenced)
    if len(roots) != 1:
        raise CompileError(
            f"{_label(schema)}: cannot tell which component is the input "
            f"(top-level components: {', '.join(roots) or 'none'})",
            hint="give the schema an AWSEvent envelope whose detail refers to the input, "
            "or keep exactly one top-level component",
        )
    return roots[0], None


def _all_refs(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        for value in node.values():
            found.extend(_all_refs(value))
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _all_refs(item)]
    return []


def _check_refs(schema: SchemaSource, document: dict[str, Any]) -> None:
    """Refuse remote references (the generator would fetch them) and dangling ones (it would
    quietly turn them into ``Any``)."""
    refs = {r for r in _all_refs(document) if isinstance(r, str)}
    remote = sorted(r for r in refs if not r.startswith("#"))
    if remote:
        raise CompileError(
            f"{_label(schema)}: $ref {', '.join(remote)} points outside the schema; sfn-mcp "
            "compiles only self-contained schemas, so the output depends on nothing but AWS",
            hint="inline the referenced definitions into the schema",
        )
    broken = sorted(r for r in refs if not resolves(document, r))
    if broken:
        raise CompileError(
            f"{_label(schema)}: $ref {', '.join(broken)} points nowhere in the schema"
        )


def _class_names(source: str) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)}


def generate_model(
    schema: SchemaSource, role: Role = "input", profile: Profile = "portable"
) -> GeneratedModel:
    """Generate the module for one schema version and find the class the tool takes (input) or
    returns (output).

    The schema is first made the document the tool publishes (``published.py``); for an input,
    that document is also written into the module as ``INPUT_SCHEMA``, which the server
    publishes and validates against, and the model is generated from it, so both say the same.
    Input objects are closed (a misspelt argument is an error); output objects stay as the schema
    says, since a workflow that adds a field to its result breaks no caller.
    """
    from datamodel_code_generator import (
        DataModelType,
        Formatter,
        InputFileType,
        PythonVersion,
        generate,
    )

    document = _parse(schema)
    _check_refs(schema, document)
    label = _label(schema)
    origin = (
        f"the input inferred from the definition of {schema.ref.arn.split(':', 1)[1]!r} "
        f"(schema {schema.version!r})"
        if schema.ref.registry == INFERRED
        else f"EventBridge schema {schema.ref.registry + '/' + schema.ref.name!r} version "
        f"{schema.version!r} ({schema.type})"
    )
    header = (
        "# ruff: noqa: E501\n"
        f"# Generated by sfn-mcp from {origin}.\n# Do not edit: run `sfn-mcp generate`."
    )
    event: EventInfo | None = None
    if schema.type == "OpenApi3":
        root, event = _openapi_root(schema, document)
        root_doc = _get(document["components"]["schemas"], root)
        openapi_root: str | None = root
    else:
        root = pascal_case(str(document.get("title") or schema.ref.name.split("@")[-1])) or "Input"
        definitions = {
            pascal_case(name) for key in ("definitions", "$defs") for name in _get(document, key)
        }
        while root in definitions:  # the generator would rename the root, not the definition
            root += "Input"
        root_doc = document
        openapi_root = None
    if not isinstance(root_doc, dict):
        raise CompileError(f"{label}: the input schema {root!r} is not a JSON object")
    published = published_document(
        label, document, openapi_root=openapi_root, close=role == "input"
    )
    check_published(label, published)
    options: dict[str, Any] = {
        "input_file_type": InputFileType.JsonSchema,
        "class_name": root,
        "output_model_type": DataModelType.PydanticV2BaseModel,
        "target_python_version": PythonVersion.PY_311,
        "use_annotated": True,
        "field_constraints": True,
        "snake_case_field": True,
        "enum_field_as_literal": "all",
        "use_schema_description": True,
        "strict_nullable": True,
        "use_missing_sentinel": True,
        "target_pydantic_version": "2.14",
        "type_mappings": PLAIN_STRINGS,
        "disable_timestamp": True,
        "custom_file_header": header,
        "formatters": [Formatter.BUILTIN],
        "builtin_format_line_length": 100,
    }
    content = json.dumps(for_the_generator(published), ensure_ascii=False)
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as isolated:
            warnings.simplefilter("ignore")
            # settings_path: never pick up formatter settings from the caller's pyproject.toml
            source = generate(content, settings_path=Path(isolated), **options)
    except Exception as exc:  # the generator raises many types; all mean "this schema"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompileError(
            f"{label}: datamodel-code-generator could not build a model: "
            f"{first[:300]}{'...' if len(first) > 300 else ''}"
        ) from exc
    if not isinstance(source, str):
        raise CompileError(f"{label}: the generator returned no single module")
    classes = _class_names(source)
    if root not in classes and pascal_case(root) in classes:
        root = pascal_case(root)
    if root not in classes and f"{root}Model" in classes:  # renamed off a pydantic name (Field)
        root = f"{root}Model"
    if root not in classes:
        raise CompileError(
            f"{label}: generated module has no class {root!r} "
            f"(found {', '.join(sorted(classes)) or 'none'})"
        )
    if role == "input":
        if SCHEMA_CONSTANT in classes:
            raise CompileError(f"{label}: a definition named {SCHEMA_CONSTANT!r} is reserved")
        # what the tool publishes and checks: the client profile's form, equivalent to the source
        served = profiled(published, profile)
        source = f"{source.rstrip()}\n{_schema_constant(served)}"
    source = _inert(source)
    description = root_doc.get("description")
    return GeneratedModel(
        source=source,
        root_class=root,
        description=str(description or schema.description or "").strip(),
        event=event,
        properties=tuple(_get(root_doc, "properties")),
        input_schema=profiled(published, profile) if role == "input" else None,
    )


# The name, in an input module, of the schema the tool publishes (tools.py passes it to Tool).
SCHEMA_CONSTANT = "INPUT_SCHEMA"
# String formats the model keeps as ``str``: the value is text on the wire and in the workflow.
# (A secret type would mask it, bytes would decode it, email/ULID types need other packages.)
PLAIN_STRINGS = [
    f"{fmt}=string" for fmt in ("password", "byte", "binary", "email", "idn-email", "ulid")
]


# Characters that must not reach a file a reviewer reads as themselves: controls, bidi and other
# format characters, line and paragraph separators (the generator copies a schema's description
# into class docstrings as it is).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def _inert(source: str) -> str:
    """``source`` with every unsafe character inside a string literal (or comment) spelt as its
    escape: the same values, and nothing that reorders or hides text in an editor or a diff.
    (Only a character Python can read back: never in a raw string or after a backslash.)"""
    unsafe = {
        c for c in set(source) if c not in "\n\r\t" and unicodedata.category(c) in UNSAFE_CATEGORIES
    }
    if not unsafe:
        return source
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT or not unsafe & set(token.string):
            continue
        prefix = re.match(r"[A-Za-z]*", token.string)
        if token.type != tokenize.STRING or "r" in (prefix[0] if prefix else "r").lower():
            return source
    for c in unsafe:
        if f"\\{c}" in source:
            return source
        escape = f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
        source = source.replace(c, escape)
    return source


def _schema_constant(published: dict[str, Any]) -> str:
    return (
        "\n\n# The tool's inputSchema, published as it is and checked before any AWS call: the\n"
        "# source schema as self-contained JSON Schema 2020-12 (characters beyond ASCII escaped).\n"
        f"{SCHEMA_CONSTANT}: dict[str, object] = {python_literal(published)}\n"
    )
