"""From reads to a JSON Schema (Draft 2020-12): one property per path the definition reads,
nested by segment, typed by what read it, required where every route reads it.

Objects stay open (``additionalProperties: true``, said explicitly so that no later stage closes
them): the definition shows what the workflow reads, not everything it passes on. A field read
in ways that disagree on its type gets no type, and a note.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sfn_mcp.infer.facts import Escape, Note, Read
from sfn_mcp.infer.samples import SampleShape
from sfn_mcp.infer.values import ITEM, SOME, Path, Segment, display, path_key

DRAFT = "https://json-schema.org/draft/2020-12/schema"
MAX_STATES = 3  # named in a description, then "and N more"
MAX_COMPARED = 8
KIND_ORDER = ("object", "array", "string", "number", "integer", "boolean")
SCHEMA_HINT = (
    "to type this tool fully, give the state machine an input schema: tag it with the "
    "schema's ARN under the tag key set by `schema-tag-key`"
)


@dataclass
class _Node:
    kinds: dict[str, set[str]] = field(default_factory=dict)  # kind → the states reading it so
    strings: int = 0  # string-typed reads …
    timestamps: int = 0  # … of which as timestamps
    nullable: bool = False
    compared: set[str] = field(default_factory=set)
    usages: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    children: dict[Segment, _Node] = field(default_factory=dict)


def _tree(reads: Iterable[Read]) -> _Node:
    root = _Node()
    for read in reads:
        node = root
        for segment in read.path:
            segment = ITEM if segment is SOME else segment
            node = node.children.setdefault(segment, _Node())
            node.states.add(read.state)
        if read.kind is not None:
            node.kinds.setdefault(read.kind, set()).add(read.state)
            if read.kind == "string":
                node.strings += 1
                node.timestamps += read.date_time
        node.nullable |= read.nullable
        node.compared.update(read.compared)
        if read.usage:
            node.usages.add(read.usage)
    return root


def _kinds(node: _Node) -> dict[str, set[str]]:
    kinds = {kind: set(states) for kind, states in node.kinds.items()}
    named = [child for segment, child in node.children.items() if segment is not ITEM]
    if named:
        kinds.setdefault("object", set()).update(s for child in named for s in child.states)
    if ITEM in node.children:
        kinds.setdefault("array", set()).update(node.children[ITEM].states)
    if "integer" in kinds and "number" in kinds:
        kinds["number"] |= kinds.pop("integer")
    return kinds


def _names(states: Iterable[str], order: Callable[[str], int]) -> str:
    names = [f"`{s}`" for s in sorted(set(states), key=lambda s: (order(s), s))]
    if len(names) == 1:
        return f"state {names[0]}"
    if len(names) <= MAX_STATES:
        return f"states {', '.join(names[:-1])} and {names[-1]}"
    shown = ", ".join(names[:MAX_STATES])
    return f"states {shown} and {len(names) - MAX_STATES} more"


def _compared_key(text: str) -> tuple[int, float, str]:
    value = json.loads(text)
    if isinstance(value, bool):
        return (2, float(value), "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _literal(text: str) -> str:
    value = json.loads(text)
    return f"'{value}'" if isinstance(value, str) else text


def _description(node: _Node, order: Callable[[str], int]) -> str:
    text = f"Read by {_names(node.states, order)}"
    if node.compared:
        values = sorted(node.compared, key=_compared_key)
        shown = ", ".join(_literal(v) for v in values[:MAX_COMPARED])
        more = f" and {len(values) - MAX_COMPARED} more" if len(values) > MAX_COMPARED else ""
        text += f"; compared with {shown}{more}"
    if node.usages:
        text += "; " + ", ".join(sorted(node.usages))
    return text + "."


class SchemaBuilder:
    def __init__(
        self,
        reads: list[Read],
        required: set[Path],
        escapes: list[Escape],
        order: Callable[[str], int],
        samples: SampleShape | None = None,
        sample_count: int = 0,
    ) -> None:
        self.root = _tree(reads)
        self.required = required
        self.escapes = escapes
        self.order = order
        self.samples = samples
        self.sample_count = sample_count
        self.notes: list[Note] = []

    def build(self) -> dict[str, Any] | None:
        root_kinds = _kinds(self.root)
        foreign = sorted(k for k in root_kinds if k != "object")
        if foreign:
            states = sorted({s for k in foreign for s in root_kinds[k]}, key=self.order)
            self.notes.append(
                Note(
                    "warning",
                    f"the execution input is read as {' and '.join(_a(k) for k in foreign)} "
                    f"(by {_names(states, self.order)}), not as an object: no object schema "
                    "can describe it, so none is inferred",
                    SCHEMA_HINT,
                )
            )
            return None
        if self.samples is not None and self.samples.kinds - {"object"}:
            self.notes.append(
                Note("warning", "some sample inputs are not objects: the samples are not used")
            )
            self.samples = None
        self._escape_notes()
        properties = self._properties(self.root, (), self.samples)
        if not properties:
            return None
        schema: dict[str, Any] = {
            "$schema": DRAFT,
            "type": "object",
            "description": self._root_description(),
            "properties": properties,
            "additionalProperties": True,
        }
        required = self._required(self.root, ())
        if required:
            schema["required"] = required
        return schema

    def _root_description(self) -> str:
        read = any(segment is not ITEM for segment in self.root.children)
        samples = self.samples is not None and bool(self.samples.properties)
        count = f"{self.sample_count} sample input{'s' if self.sample_count != 1 else ''}"
        if read and samples:
            sources = f"the state machine's definition and {count}"
            what = "the ones its states read or the samples carry"
        elif samples:
            sources, what = count, "the ones the samples carry"
        else:
            sources, what = "the state machine's definition", "the ones its states read"
        whole = sorted(
            {e.state for e in self.escapes if e.path == ()}, key=lambda s: (self.order(s), s)
        )
        if whole:
            verb = "passes" if len(whole) == 1 else "pass"
            passing = _names(whole, self.order)
            rest = f"{passing} {verb} the whole input on, so other fields may be needed"
        else:
            rest = "other fields are allowed"
        return f"Inferred from {sources}: the fields below are {what}; {rest}."

    def _properties(
        self, node: _Node | None, path: Path, sample: SampleShape | None
    ) -> dict[str, Any]:
        read = {} if node is None else node.children
        seen = {} if sample is None else sample.properties
        names = sorted({str(s) for s in read if s is not ITEM} | set(seen))
        return {name: self._field(read.get(name), (*path, name), seen.get(name)) for name in names}

    def _required(self, node: _Node, path: Path) -> list[str]:
        return sorted(
            str(segment)
            for segment in node.children
            if segment is not ITEM and (*path, segment) in self.required
        )

    def _field(self, node: _Node | None, path: Path, sample: SampleShape | None) -> dict[str, Any]:
        if node is None:
            return self._sampled(sample or SampleShape(), path)
        kinds = _kinds(node)
        out: dict[str, Any] = {}
        if len(kinds) > 1:
            ways = sorted(kinds, key=KIND_ORDER.index)
            said = _and([f"as {_a(k)} (by {_names(kinds[k], self.order)})" for k in ways])
            self.notes.append(Note("note", f"`{display(path)}` is read {said}: it is left untyped"))
            out["description"] = _description(node, self.order)
            return out
        kind = next(iter(kinds), None)
        description = _description(node, self.order)
        seen = sample.kind if sample is not None else None
        if kind is None and seen is not None:
            kind = seen
            description = description[:-1] + "; its type is the one sample inputs show."
        elif kind is not None and seen is not None and seen != kind:
            if {kind, seen} == {"integer", "number"}:
                kind = "number"
            else:
                self.notes.append(
                    Note(
                        "note",
                        f"sample inputs show `{display(path)}` as {_a(seen)}, but the definition "
                        f"reads it as {_a(kind)}: the definition's type is kept",
                    )
                )
        nullable = node.nullable or (sample is not None and sample.nullable)
        if kind is not None:
            out["type"] = [kind, "null"] if nullable else kind
        if kind == "string" and node.strings and node.timestamps == node.strings:
            out["format"] = "date-time"
        out["description"] = description
        if kind == "object":
            out["properties"] = self._properties(node, path, sample)
            required = self._required(node, path)
            if required:
                out["required"] = required
            out["additionalProperties"] = True
        elif kind == "array":
            items = node.children.get(ITEM)
            inner = sample.items if sample is not None else None
            if items is not None or inner is not None:
                out["items"] = self._field(items, (*path, ITEM), inner)
        return out

    def _sampled(self, sample: SampleShape, path: Path) -> dict[str, Any]:
        """A field only the samples show: optional, typed as they are, never their values."""
        out: dict[str, Any] = {}
        kind = sample.kind
        if kind is not None:
            out["type"] = [kind, "null"] if sample.nullable else kind
        out["description"] = "Seen in sample inputs; not read by the definition."
        if kind == "object":
            out["properties"] = self._properties(None, path, sample)
            out["additionalProperties"] = True
        elif kind == "array" and sample.items is not None and sample.items.kinds:
            out["items"] = self._sampled(sample.items, (*path, ITEM))
        return out

    def _escape_notes(self) -> None:
        seen: set[tuple[str, Path]] = set()
        for escape in sorted(
            self.escapes, key=lambda e: (self.order(e.state), e.state, path_key(e.path), e.where)
        ):
            if (escape.state, escape.path) in seen:
                continue
            node = self._node(escape.path)
            where = f" (as `{escape.where}`)" if escape.where else ""
            if escape.path == ():
                seen.add((escape.state, escape.path))
                self.notes.append(
                    Note(
                        "note",
                        f"state `{escape.state}` passes the whole execution input to "
                        f"{escape.target}{where}: the fields it needs cannot be seen",
                        SCHEMA_HINT,
                        escape.state,
                    )
                )
            elif node is not None and node.children:
                seen.add((escape.state, escape.path))
                self.notes.append(
                    Note(
                        "note",
                        f"state `{escape.state}` passes `{display(escape.path)}` whole to "
                        f"{escape.target}{where}: fields of it other than those listed may be "
                        "needed",
                        SCHEMA_HINT,
                        escape.state,
                    )
                )

    def _node(self, path: Path) -> _Node | None:
        node = self.root
        for segment in path:
            found = node.children.get(ITEM if segment is SOME else segment)
            if found is None:
                return None
            node = found
        return node


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
