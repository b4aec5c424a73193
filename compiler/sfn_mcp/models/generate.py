"""Stage 3, models: EventBridge schemas → Pydantic v2 modules with datamodel-code-generator.

One module per schema keeps class names as the schema wrote them (no ``Address1``). For an
EventBridge ``AWSEvent`` envelope the tool input is the ``detail`` model; the envelope's source and
detail-type (vendor keys the generator drops) are read here from the source document.
"""

from __future__ import annotations

import ast
import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.naming import pascal_case
from sfn_mcp.read.records import Role, SchemaSource
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


def _label(schema: SchemaSource) -> str:
    return f"schema {schema.ref.registry}/{schema.ref.name} v{schema.version}"


def _parse(schema: SchemaSource) -> dict[str, Any]:
    try:
        document = json.loads(schema.content)
    except ValueError as exc:
        raise CompileError(f"{_label(schema)} is not valid JSON: {exc}") from exc
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
    referenced = {
        name for name in (_ref_name(r) for r in _all_refs(components)) if name is not None
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


def closed_objects(node: Any) -> Any:
    """A copy in which every object schema that does not say whether it allows other properties
    says ``additionalProperties: false``.

    Left open, the generated model would silently drop a misspelt argument; closed, the call is
    rejected with the field's name. A schema that says ``true`` (or gives a schema) keeps it.
    """
    if isinstance(node, list):
        return [closed_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: closed_objects(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        copy["additionalProperties"] = False
    return copy


def kept_keywords(node: Any, *, names: bool = False) -> Any:
    """A copy in which the keywords the generator would drop (``uniqueItems``: pydantic has no
    such list constraint) are spelt as vendor keys it copies into ``json_schema_extra``, so the
    published schema keeps them and the server enforces them (see the runtime's validation).
    ``names``: ``node`` maps names to schemas (``properties``, ``$defs`` …), not a schema."""
    if isinstance(node, list):
        return [kept_keywords(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        (f"x-{key}" if key in KEPT_KEYWORDS and not names else key): kept_keywords(
            value, names=not names and key in NAME_MAPS
        )
        for key, value in node.items()
    }


NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "schemas"})
KEPT_KEYWORDS = frozenset({"uniqueItems"})


def _class_names(source: str) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)}


def generate_model(schema: SchemaSource, role: Role = "input") -> GeneratedModel:
    """Generate the module for one schema version and find the class the tool takes (input) or
    returns (output).

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
    header = (
        "# ruff: noqa: E501\n"
        "# Generated by sfn-mcp from EventBridge schema "
        f"{schema.ref.registry + '/' + schema.ref.name!r} version {schema.version!r} "
        f"({schema.type}).\n# Do not edit: run `sfn-mcp generate`."
    )
    options: dict[str, Any] = {
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
        "type_mappings": ["email=string"],
        "disable_timestamp": True,
        "custom_file_header": header,
        "formatters": [Formatter.BUILTIN],
        "builtin_format_line_length": 100,
        "field_extra_keys_without_x_prefix": {f"x-{key}" for key in KEPT_KEYWORDS},
    }
    event: EventInfo | None = None
    if schema.type == "OpenApi3":
        root, event = _openapi_root(schema, document)
        options["input_file_type"] = InputFileType.OpenAPI
        root_doc = _get(document["components"]["schemas"], root)
    else:
        root = pascal_case(str(document.get("title") or schema.ref.name.split("@")[-1])) or "Input"
        definitions = {
            pascal_case(name) for key in ("definitions", "$defs") for name in _get(document, key)
        }
        while root in definitions:  # the generator would rename the root, not the definition
            root += "Input"
        options["input_file_type"] = InputFileType.JsonSchema
        options["class_name"] = root
        root_doc = document
    if role == "input" and root_doc.get("type", "object") != "object":
        raise CompileError(
            f"{_label(schema)}: the input must be a JSON object, but the schema's root has type "
            f"{root_doc.get('type')!r}",
            hint="MCP tool arguments are always an object; wrap the value in an object property",
        )
    content = json.dumps(
        kept_keywords(closed_objects(document) if role == "input" else document),
        ensure_ascii=False,
    )
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as isolated:
            warnings.simplefilter("ignore")
            # settings_path: never pick up formatter settings from the caller's pyproject.toml
            source = generate(content, settings_path=Path(isolated), **options)
    except Exception as exc:  # the generator raises many types; all mean "this schema"
        raise CompileError(
            f"{_label(schema)}: datamodel-code-generator could not build a model: {exc}"
        ) from exc
    if not isinstance(source, str):
        raise CompileError(f"{_label(schema)}: the generator returned no single module")
    classes = _class_names(source)
    if root not in classes and pascal_case(root) in classes:
        root = pascal_case(root)
    if root not in classes:
        raise CompileError(
            f"{_label(schema)}: generated module has no class {root!r} "
            f"(found {', '.join(sorted(classes)) or 'none'})"
        )
    description = root_doc.get("description")
    return GeneratedModel(
        source=source,
        root_class=root,
        description=str(description or schema.description or "").strip(),
        event=event,
        properties=tuple(_get(root_doc, "properties")),
    )
