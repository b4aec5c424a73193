"""The schema a tool publishes: its source schema, once, as a self-contained JSON Schema 2020-12
document. The server publishes exactly this as the tool's ``inputSchema`` and validates arguments
against it; the Pydantic model only types the Python function (see ``generate.py``).

What changes from the source, and nothing else:

* the document: an OpenAPI 3.0 component becomes the root, the components it reaches become
  ``$defs`` (``#/components/schemas/X`` → ``#/$defs/X``, the root itself → ``#``); a Draft 4
  document keeps its root and its ``definitions`` become ``$defs``; ``$schema`` names 2020-12,
  and ``id`` / ``$id`` go (every reference is a local JSON pointer, resolved against the root);
* spellings 2020-12 dropped or changed: Draft 4 boolean ``exclusiveMinimum`` / ``exclusiveMaximum``
  become the numbers, ``dependencies`` becomes ``dependentRequired`` / ``dependentSchemas``, an
  ``items`` array becomes ``prefixItems`` (``additionalItems`` then ``items``, ``false`` spelt
  ``{"not": {}}``); OpenAPI's
  ``nullable: true`` becomes a type union with ``null`` (``anyOf`` with ``{"type": "null"}`` where
  there is no ``type``) and ``example`` becomes ``examples: [...]``;
* input objects that do not say which other properties they take are closed, as before:
  ``additionalProperties: false``; where a composition (``allOf``, ``$ref`` beside
  properties, ``dependentSchemas``, ``if``/``then``/``else``, ``anyOf``/``oneOf`` beside
  properties) supplies properties, ``unevaluatedProperties: false`` on the object instead, so the
  parts stay open and the whole is closed (a closed part would refuse its siblings' properties);
* the root says ``"type": "object"`` (MCP requires it).

Every other keyword (formats, ``patternProperties``, ``readOnly``, ``deprecated``, ``default``,
vendor ``x-`` keys …) is kept as written. Keywords are sorted within each schema and ``$defs`` by
name; the names under ``properties`` and the like keep the source's order (clients show them so),
and values (``enum``, ``default`` …) are never touched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.schema_refs import resolve_ref

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Where schemas sit inside a schema, in every dialect sfn-mcp reads.
SINGLE = frozenset(
    {"additionalItems", "additionalProperties", "contains", "contentSchema", "else", "if"}
    | {"items", "not", "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties"}
)
ARRAYS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
MAPS = frozenset({"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"})
# What stays beside an ``anyOf`` made from ``nullable``: annotations, not constraints.
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
)
COMPONENTS = "#/components/schemas/"
EXCLUSIVE = (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum"))


def _token(text: str) -> str:
    """A JSON pointer token of a URI fragment, decoded."""
    return unquote(text).replace("~1", "/").replace("~0", "~")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class _Translation:
    """One source document → 2020-12: how its references move, and which dialect it speaks."""

    def __init__(self, label: str, *, openapi: bool, rebase: Callable[[str], str]) -> None:
        self.label = label
        self.openapi = openapi
        self.rebase = rebase

    def schema(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node  # booleans are schemas; anything else is for check_schema to name
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self.rebase(value)
            elif key in ("$schema", "$id") or (key == "id" and not self.openapi):
                continue  # identifiers: every reference is a pointer from the root
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = [self.schema(item) for item in value]
            elif key in SINGLE:
                out[key] = self.schema(value)
            elif key in ARRAYS and isinstance(value, list):
                out[key] = [self.schema(item) for item in value]
            elif key in MAPS and isinstance(value, dict):
                out[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key == "dependencies" and isinstance(value, dict):
                for name, sub in value.items():
                    if isinstance(sub, list):
                        out.setdefault("dependentRequired", {})[name] = sub
                    else:
                        out.setdefault("dependentSchemas", {})[name] = self.schema(sub)
            elif key == "discriminator" and isinstance(value, dict):
                mapping = value.get("mapping")
                if isinstance(mapping, dict):
                    value = {
                        **value,
                        "mapping": {
                            k: self.rebase(v) if isinstance(v, str) and v.startswith("#") else v
                            for k, v in mapping.items()
                        },
                    }
                out[key] = value
            else:
                out[key] = value  # a value (enum, default, x-…) or an unknown keyword: as written
        self._array_forms(node, out)
        for exclusive, inclusive in EXCLUSIVE:
            flag = out.get(exclusive)
            if isinstance(flag, bool):  # Draft 4 / OpenAPI 3.0: a flag on the bound beside it
                del out[exclusive]
                if flag and inclusive in out:
                    out[exclusive] = out.pop(inclusive)
        if self.openapi:
            if "example" in out:
                example = out.pop("example")
                out.setdefault("examples", [example])
            if "nullable" in out:
                out = _nullable(out)
        return dict(sorted(out.items()))

    @staticmethod
    def _array_forms(node: dict[str, Any], out: dict[str, Any]) -> None:
        """Draft 4 ``items: [...]`` is 2020-12 ``prefixItems``; ``additionalItems`` then is the
        2020-12 ``items``, and without an ``items`` array it meant nothing."""
        if "additionalItems" not in out:
            return
        additional = out.pop("additionalItems")
        if isinstance(node.get("items"), list) and additional is not True:
            # ``false`` spelt as the schema nothing matches: a bare boolean schema outside
            # additionalProperties and the like is what some clients cannot read
            out["items"] = {"not": {}} if additional is False else additional


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 ``nullable: true``: null is a value too."""
    if node.pop("nullable") is not True:
        return node
    kind = node.get("type")
    if isinstance(kind, str | list):
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if "null" not in kinds:
            node["type"] = [*kinds, "null"]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    kept = {k: v for k, v in node.items() if k in ANNOTATIONS or k.startswith("x-")}
    constraint = {k: v for k, v in node.items() if k not in kept}
    if not constraint:
        return node  # already anything, null included
    return {**kept, "anyOf": [dict(sorted(constraint.items())), {"type": "null"}]}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _openapi(label: str, components: dict[str, Any], root: str) -> dict[str, Any]:
    def component(ref: str) -> tuple[str, str]:
        if not ref.startswith(COMPONENTS):
            raise CompileError(
                f"{label}: $ref {ref} points outside components.schemas, which sfn-mcp cannot "
                "publish as part of the tool's schema",
                hint="move the referenced schema into components.schemas",
            )
        head, slash, rest = ref[len(COMPONENTS) :].partition("/")
        return _token(head), slash + rest

    def rebase(ref: str) -> str:
        if not ref.startswith("#"):
            return ref
        name, rest = component(ref)
        return f"#{rest}" if name == root else f"#/$defs/{_escape(name)}{rest}"

    reached = [root]
    for name in reached:  # every component the root needs, in the order they are found
        for ref in _refs(components.get(name)):
            if ref.startswith("#"):
                found = component(ref)[0]
                if found not in reached and found in components:
                    reached.append(found)
    translate = _Translation(label, openapi=True, rebase=rebase)
    document = translate.schema(components[root])
    if not isinstance(document, dict):
        raise CompileError(f"{label}: component {root!r} is not a JSON object")
    defs = {name: translate.schema(value) for name, value in components.items() if name in reached}
    defs.pop(root)
    if defs:
        if "$defs" in document:
            raise CompileError(f"{label}: component {root!r} has $defs of its own")
        document["$defs"] = defs
    return document


def _json_schema(label: str, document: dict[str, Any]) -> dict[str, Any]:
    renamed = "definitions" in document and "$defs" not in document

    def rebase(ref: str) -> str:
        if renamed and (ref == "#/definitions" or ref.startswith("#/definitions/")):
            return "#/$defs" + ref[len("#/definitions") :]
        return ref

    translated = _Translation(label, openapi=False, rebase=rebase).schema(document)
    if renamed:
        translated["$defs"] = translated.pop("definitions")
    return dict(sorted(translated.items()))


def translated(
    label: str, document: dict[str, Any], *, openapi_root: str | None = None
) -> dict[str, Any]:
    """The source as one 2020-12 document: for OpenAPI, the component ``openapi_root`` and what
    it reaches; for JSON Schema, the whole document."""
    if openapi_root is not None:
        components = document["components"]["schemas"]
        result = _openapi(label, components, openapi_root)
    else:
        result = _json_schema(label, document)
    _check_numbers(label, result)
    return result


def _check_numbers(label: str, node: Any) -> None:
    if isinstance(node, float) and not math.isfinite(node):
        raise CompileError(f"{label}: the schema holds the number {node}, which JSON cannot carry")
    if isinstance(node, dict):
        for value in node.values():
            _check_numbers(label, value)
    elif isinstance(node, list):
        for item in node:
            _check_numbers(label, item)


# ------------------------------------------------------------------------ closing input objects


Member = dict[str, Any] | str  # an in-place part: a subschema, or the target of a node's $ref
FROZEN = frozenset({"not", "if", "contains", "propertyNames"})  # closing would change a condition


class _Closer:
    """Closes every input object that lists properties and does not say whether it takes others.

    An object made of parts applied in place (``allOf`` …, see the module's docstring) is closed
    as a whole and its parts stay open; a definition used as such a part stays open, and where it
    is used on its own, the reference is closed instead (``unevaluatedProperties`` beside it).
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.partial: set[str] = set()  # references whose targets are parts of larger objects

    def target(self, member: Member) -> Any:
        if isinstance(member, dict):
            return member
        try:
            return resolve_ref(self.document, member)
        except LookupError:
            return None

    @staticmethod
    def in_place(node: dict[str, Any], *, partial: bool) -> list[Member]:
        """What applies to the same object as ``node`` and may add properties to it: ``$ref``
        beside other keywords, every ``allOf`` part, ``then`` / ``else``, ``dependentSchemas``;
        ``anyOf`` / ``oneOf`` parts beside properties (without them, each is a whole form)."""
        found: list[Any] = list(node.get("allOf") or [])
        if "if" in node:
            found += [node[key] for key in ("then", "else") if key in node]
        found += list((node.get("dependentSchemas") or {}).values())
        if partial or "properties" in node:
            found += list(node.get("anyOf") or []) + list(node.get("oneOf") or [])
        members: list[Member] = [m for m in found if isinstance(m, dict)]
        if isinstance(node.get("$ref"), str):
            members.append(node["$ref"])
        return members

    def has_properties(self, member: Any, seen: frozenset[str] = frozenset()) -> bool:
        """Whether ``member``, or a part of it, lists properties (by name or pattern)."""
        if isinstance(member, str):
            return member not in seen and self.has_properties(self.target(member), seen | {member})
        if not isinstance(member, dict):
            return False
        if "properties" in member or "patternProperties" in member:
            return True
        return any(self.has_properties(m, seen) for m in self.in_place(member, partial=True))

    def names(self, member: Any, seen: frozenset[str] = frozenset()) -> set[str] | None:
        """The property names ``member`` and its parts list; None if they take others too."""
        if isinstance(member, str):
            return set() if member in seen else self.names(self.target(member), seen | {member})
        if not isinstance(member, dict):
            return set()
        if "patternProperties" in member or any(
            member.get(key, False) is not False
            for key in ("additionalProperties", "unevaluatedProperties")
        ):
            return None
        found = set(member.get("properties") or {})
        for part in self.in_place(member, partial=True):
            more = self.names(part, seen)
            if more is None:
                return None
            found |= more
        return found

    def parts(self, node: dict[str, Any], *, partial: bool, root: bool) -> list[Member]:
        """The in-place members of ``node`` that are parts of one object with it (left open):
        all of them when two or more supply properties (the root counts as one: the server adds
        idempotency_key), when ``node`` is a part itself, or where a member is a definition used
        as a part elsewhere (open there, so closed here); else none."""
        members = self.in_place(node, partial=partial)
        supplying = [m for m in members if self.has_properties(m)]
        own = root or "properties" in node or "patternProperties" in node
        reused = any(isinstance(m, str) and m in self.partial for m in supplying)
        if partial or reused or (supplying and len(supplying) + own >= 2):
            return members
        return []

    def children(
        self, node: dict[str, Any], *, partial: bool, root: bool
    ) -> Iterator[tuple[str, Any, bool, bool]]:
        """(keyword, subschema, is a part, under a condition) for every subschema of ``node``
        (``$defs`` apart: each definition is closed on its own)."""
        parts = {id(m) for m in self.parts(node, partial=partial, root=root)}
        for key, value in node.items():
            if key in FROZEN:
                yield key, value, False, True
            elif key in SINGLE:
                yield key, value, id(value) in parts, False
            elif key in ARRAYS and isinstance(value, list):
                for item in value:
                    yield key, item, id(item) in parts, False
            elif key in MAPS and key != "$defs" and isinstance(value, dict):
                for sub in value.values():
                    yield key, sub, id(sub) in parts, False

    def mark(self, node: Any, *, partial: bool, root: bool = False) -> None:
        """Find the references used as parts of larger objects."""
        if not isinstance(node, dict):
            return
        for member in self.parts(node, partial=partial, root=root):
            if isinstance(member, str) and member != "#":
                self.partial.add(member)
        for _, child, child_partial, frozen in self.children(node, partial=partial, root=root):
            if not frozen:
                self.mark(child, partial=child_partial)

    def close(self, node: Any, *, partial: bool, root: bool = False) -> Any:
        if not isinstance(node, dict):
            return node
        flags = {
            id(child): (p, frozen)
            for _, child, p, frozen in self.children(node, partial=partial, root=root)
        }

        def one(child: Any) -> Any:
            p, frozen = flags.get(id(child), (False, True))
            return child if frozen else self.close(child, partial=p)

        out = dict(node)
        for key, value in node.items():
            if key in SINGLE:
                out[key] = one(value)
            elif key in ARRAYS and isinstance(value, list):
                out[key] = [one(item) for item in value]
            elif key in MAPS and key != "$defs" and isinstance(value, dict):
                out[key] = {name: one(sub) for name, sub in value.items()}
        says = "additionalProperties" in node or "unevaluatedProperties" in node
        if not (says or partial):
            parts = self.parts(node, partial=False, root=root)
            if parts:
                own = set(node.get("properties") or {})
                extra = [self.names(p) for p in parts]
                # the same as additionalProperties when the parts name nothing new
                simple = "patternProperties" not in node and all(
                    names is not None and names <= own for names in extra
                )
                out["additionalProperties" if simple and own else "unevaluatedProperties"] = False
            elif "properties" in node:
                out["additionalProperties"] = False
        return dict(sorted(out.items()))

    def definitions(self) -> dict[str, Any]:
        defs = self.document.get("$defs")
        return defs if isinstance(defs, dict) else {}

    def run(self) -> dict[str, Any]:
        defs = self.definitions()
        while True:  # a part's own parts are parts too: until no new one is found
            before = set(self.partial)
            self.mark(self.document, partial=False, root=True)
            for name, sub in defs.items():
                self.mark(sub, partial=f"#/$defs/{_escape(name)}" in self.partial)
            if self.partial == before:
                break
        closed: dict[str, Any] = self.close(self.document, partial=False, root=True)
        if defs:
            closed["$defs"] = {
                name: self.close(sub, partial=f"#/$defs/{_escape(name)}" in self.partial)
                for name, sub in defs.items()
            }
        return closed


def closed_objects(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a 2020-12 document in which every object that lists properties and does not
    say whether it takes others is closed: a misspelt argument is refused by name."""
    return _Closer(document).run()


# ------------------------------------------------------------------------ the published document


def published_document(
    label: str, document: dict[str, Any], *, openapi_root: str | None, close: bool
) -> dict[str, Any]:
    """What the tool publishes as ``inputSchema`` (``close``: input objects closed)."""
    result = translated(label, document, openapi_root=openapi_root)
    root = result
    ref = result.get("$ref")
    if isinstance(ref, str) and "type" not in result:
        try:
            root = resolve_ref(result, ref)
        except LookupError:
            root = {}
    kind = root.get("type", "object") if isinstance(root, dict) else None
    if close and isinstance(kind, list) and set(kind) == {"object", "null"} and root is result:
        kind = result["type"] = "object"  # nullable arguments: MCP arguments are never null
    if close and kind != "object":
        raise CompileError(
            f"{label}: the input must be a JSON object, but the schema's root has type {kind!r}",
            hint="MCP tool arguments are always an object; wrap the value in an object property",
        )
    if isinstance(result.get("$defs"), dict):
        result["$defs"] = dict(sorted(result["$defs"].items()))  # whatever order the source had
    if close:
        result = closed_objects(result)
    result.setdefault("type", "object")
    result["$schema"] = DIALECT
    return dict(sorted(result.items()))


def check_published(label: str, document: dict[str, Any]) -> None:
    """Refuse at compile time what the server could not validate with: a schema 2020-12 calls
    invalid, a reference the translation left dangling, a pattern Python cannot compile."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise CompileError(
            f"{label}: not a valid JSON Schema at {where}: {exc.message[:200]}",
            hint="fix the schema in the EventBridge Schema Registry",
        ) from exc
    for ref in sorted(set(_refs(document))):
        try:
            resolve_ref(document, ref)
        except LookupError:
            raise CompileError(
                f"internal error: {label}: $ref {ref} does not resolve in the published schema",
                hint="please report this with the schema that produced it",
            ) from None
    for pattern in sorted(_patterns(document)):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CompileError(
                f"{label}: the pattern {pattern!r} is not a regular expression the server can "
                f"check ({exc})",
                hint="write it in the common subset of ECMA-262 and Python regular expressions",
            ) from exc


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        if isinstance(node.get("patternProperties"), dict):
            yield from node["patternProperties"]
        for key, value in node.items():
            if key in SINGLE:
                yield from _patterns(value)
            elif key in ARRAYS and isinstance(value, list):
                for item in value:
                    yield from _patterns(item)
            elif key in MAPS and isinstance(value, dict):
                for sub in value.values():
                    yield from _patterns(sub)


def for_the_generator(node: Any) -> Any:
    """The published document as datamodel-code-generator reads it for the model: where the
    model cannot follow the schema (``unevaluatedProperties``, closed objects that take
    ``patternProperties``), the model stays open; the schema check refuses what it must."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "unevaluatedProperties":
            continue
        if key in SINGLE:
            out[key] = for_the_generator(value)
        elif key in ARRAYS and isinstance(value, list):
            out[key] = [for_the_generator(item) for item in value]
        elif key in MAPS and isinstance(value, dict):
            out[key] = {name: for_the_generator(sub) for name, sub in value.items()}
        else:
            out[key] = value
    if out.get("additionalProperties") is False and "patternProperties" in out:
        del out["additionalProperties"]
    return out


# ------------------------------------------------------------------------ the Python literal


def python_literal(value: Any) -> str:
    """``value`` (JSON data) as a Python expression of ASCII only: every character beyond ASCII,
    and every control or bidi character, is an escape, so none reaches a file a reviewer reads."""
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _string(text: str) -> str:
    escaped = ascii(text)  # '…' or "…", with \x, \u and \U escapes
    if escaped.startswith("'") and '"' not in text:
        escaped = '"' + escaped[1:-1].replace("\\'", "'") + '"'
    return escaped
