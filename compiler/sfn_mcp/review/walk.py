"""The schema walker: an old and a new schema of one tool side, compared in parallel, each
difference a finding of a schema or annotation rule.

Schemas are compared as sets of accepted values: each change *narrows* (fewer values valid),
*widens* (more values valid), does *both*, or only touches annotations. Input schemas are what
callers send, so narrowing breaks them; output schemas are what callers receive, so widening
breaks them (the rules table, ``sfn_mcp.review.rules``, gives each rule's severity per side).
Local ``$ref`` s (``#/$defs/...``) are resolved in each document (siblings of a ``$ref`` override
the target; recursive definitions are walked once per pair). ``allOf`` parts and their siblings
are intersected into one schema: the tightest bounds and lengths, types, ``enum`` s and
``const`` s that every part allows, the union of ``required``, ``properties`` merged by name
(recursively); what one schema cannot say (two different patterns) stays in an ``allOf`` reviewed
by hand. ``anyOf``/``oneOf`` members and ``type`` lists are matched by type; among several of one
type, identical members pair first, then those with the same class title, then the most alike,
then by position, so reordering a union changes nothing. JSON numbers compare by value (``1`` is
``1.0``, never ``true``). The walk recurses through ``properties``, ``items`` and
``additionalProperties``. Paths read ``input.customer.email``, ``output.output.total``; ``[]`` is
an array's items, ``*`` an object's additional properties and ``<Card>`` one member of a union of
several. (The set algebra itself is the library ``sfn_mcp.review.schemas``.)

A field removed from an input is breaking only when the object is closed
(``additionalProperties: false``): callers that still send the field are rejected. From an open
object it is non-breaking but reported: the value is still accepted as an extra property, only no
longer described, and the workflow may ignore it.

Deliberate simplifications: a new optional input field is non-breaking even on an open object
(where its value was unconstrained before); ``anyOf`` and ``oneOf`` are compared alike; output
fields added and output objects opened are non-breaking (clients ignore what they do not read);
changes inside a ``$defs`` entry are reported at every path that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.rules import (
    ADDITIONAL_PROPERTIES_CLOSED,
    ADDITIONAL_PROPERTIES_OPENED,
    ANNOTATION_CHANGED,
    CONST_ADDED,
    CONST_CHANGED,
    CONST_REMOVED,
    CONSTRAINT_ADDED,
    CONSTRAINT_CHANGED,
    CONSTRAINT_RELAXED,
    CONSTRAINT_REMOVED,
    CONSTRAINT_TIGHTENED,
    DEFAULT_ADDED,
    DEFAULT_CHANGED,
    DEFAULT_REMOVED,
    ENUM_ADDED,
    ENUM_REMOVED,
    ENUM_VALUE_ADDED,
    ENUM_VALUE_REMOVED,
    FIELD_ADDED,
    FIELD_NO_LONGER_REQUIRED,
    FIELD_NOW_REQUIRED,
    FIELD_REMOVED,
    FROM_OPEN_OBJECT,
    KEYWORD_CHANGED,
    NULL_ADDED,
    NULL_REMOVED,
    REQUIRED_FIELD_ADDED,
    TYPE_CHANGED,
    TYPE_NARROWED,
    TYPE_WIDENED,
    WORDS_CHANGED,
    Rule,
    Side,
    Variant,
)
from sfn_mcp.review.schemas.bounds import Effect, bound, compare_limit, compare_multiple
from sfn_mcp.review.schemas.document import MAX_DEPTH, Document, UnresolvedRef
from sfn_mcp.review.schemas.keywords import (
    COUNT_MAXIMA,
    COUNT_MINIMA,
    UNION,
    allowed,
    annotations_of,
    required,
    validation_of,
)
from sfn_mcp.review.schemas.types import Relation, type_relation, types
from sfn_mcp.review.schemas.unions import Branch, is_null, label, marker, match, merged, simple
from sfn_mcp.review.schemas.values import canonical, fmt, plain
from sfn_mcp.review.surface import ABSENT, Change, finding, show

# Handled by the walk; any other keyword that differs is a "keyword-changed" (so is an allOf
# left after merging: what the parts say that one schema cannot).
WALKED: Final = frozenset(
    {"type", "enum", "const", "properties", "required", "additionalProperties", "items"}
    | {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    | {"pattern", "format", "uniqueItems", "$ref", *UNION}
)
# What the walker may report: the rest is the tools' and the server's.
SCHEMA_AREAS: Final = frozenset({"schema", "annotation"})


def walk(tool: str, side: Side, old: Any, new: Any) -> list[Change]:
    """The findings between the old and the new ``side`` schema of ``tool`` (paths start with
    the side's name). A local ``$ref`` that resolves nowhere is a ``CompileError``."""
    out: list[Change] = []
    try:
        _Walker(tool, side, old, new, out).schema(old, new, side)
    except UnresolvedRef as exc:
        raise CompileError(
            str(exc), hint="regenerate the surface with `sfn-mcp generate`"
        ) from None
    return out


def _child(path: str, name: str) -> str:
    simple_name = name and all(c.isalnum() or c in "_-$@" for c in name)
    return f"{path}.{name}" if simple_name else f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _same(before: Any, after: Any) -> bool:
    """JSON equality (``true`` is not ``1``); a missing value equals only a missing value."""
    if before is ABSENT or after is ABSENT:
        return before is after
    return canonical(before) == canonical(after)


class _Walker:
    """Walks an old and a new schema of one tool side in parallel, collecting changes."""

    def __init__(self, tool: str, side: Side, old: Any, new: Any, out: list[Change]) -> None:
        self.tool = tool
        self.side = side
        self.old = Document(old, f"tool {tool}: old {side} schema")
        self.new = Document(new, f"tool {tool}: new {side} schema")
        self.out = out
        self.active: set[tuple[str, str]] = set()
        self.depth = 0

    def emit(
        self,
        rule: Rule,
        path: str,
        message: str,
        old: Any = ABSENT,
        new: Any = ABSENT,
        *,
        variant: Variant | None = None,
    ) -> None:
        """Record a finding of ``rule`` on this side; its severity comes from the table."""
        if rule.area not in SCHEMA_AREAS:
            raise ValueError(f"rule {rule.id} ({rule.area}) is not a schema rule")
        self.out.append(
            finding(
                rule,
                tool=self.tool,
                path=path,
                message=message,
                side=self.side,
                variant=variant,
                old=old,
                new=new,
            )
        )

    def says(self, for_input: str, for_output: str) -> str:
        return for_input if self.side == "input" else for_output

    # -- a schema and its alternatives ---------------------------------------------------------

    def schema(self, old: Any, new: Any, path: str) -> None:
        if self.depth > MAX_DEPTH:
            return
        self.depth += 1
        try:
            old_level, old_branches = self.old.branches(old)
            new_level, new_branches = self.new.branches(new)
            if simple(old_branches) and simple(new_branches):
                # X, X | None, [X, "null"]: the field's words are X's, whichever spelling
                old_level, old_branches = merged(old_level, old_branches)
                new_level, new_branches = merged(new_level, new_branches)
                self.annotations(old_level, new_level, path)
                self.union(old_branches, new_branches, path, several=False)
            else:
                self.annotations(old_level, new_level, path)
                self.union(old_branches, new_branches, path, several=True)
        finally:
            self.depth -= 1

    def union(self, old: list[Branch], new: list[Branch], path: str, *, several: bool) -> None:
        """Pair the alternatives; with several, each pair has its own words and path marker."""
        pairs, removed, added = match(old, new)
        for before, after in pairs:
            where = f"{path}<{marker(after)}>" if several and not is_null(after) else path
            if several:
                self.annotations(annotations_of(before.schema), annotations_of(after.schema), where)
            self.branch(before, after, where)
        for branch in removed:
            if is_null(branch):
                message = self.says("no longer accepts null", "is never null now")
                self.emit(NULL_REMOVED, path, message)
            else:
                name = label(branch)
                message = self.says(f"no longer accepts {name}", f"is never {name} now")
                self.emit(TYPE_NARROWED, path, message, old=name)
        for branch in added:
            if is_null(branch):
                message = self.says("now also accepts null", "may now be null")
                self.emit(NULL_ADDED, path, message)
            else:
                name = label(branch)
                message = self.says(f"now also accepts {name}", f"may now be {name}")
                self.emit(TYPE_WIDENED, path, message, new=name)

    def branch(self, old: Branch, new: Branch, path: str) -> None:
        key = (old.refs[-1] if old.refs else "", new.refs[-1] if new.refs else "")
        if key != ("", "") and key in self.active:
            return  # a recursive definition: this pair is already being compared further up
        self.active.add(key)
        try:
            self.validation(validation_of(old.schema), validation_of(new.schema), path)
        finally:
            self.active.discard(key)

    # -- one alternative -----------------------------------------------------------------------

    def validation(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if not old or not new:
            if old or new:
                self.typed(old, new, path)
            return
        relation = type_relation(types(old), types(new))
        if relation != "same":
            self.types(old, new, relation, path)
            if relation == "disjoint":
                return
        self.values(old, new, path)
        self.constraints(old, new, path)
        self.objects(old, new, path)
        if "items" in old or "items" in new:
            before, after = old.get("items", {}), new.get("items", {})
            if isinstance(before, list) or isinstance(after, list):
                self.unknown("items", before, after, path)
            else:
                self.schema(before, after, f"{path}[]")
        for key in sorted((set(old) | set(new)) - WALKED):
            if not _same(old.get(key, ABSENT), new.get(key, ABSENT)):
                self.unknown(key, old.get(key, ABSENT), new.get(key, ABSENT), path)
        ref_old, ref_new = old.get("$ref", ABSENT), new.get("$ref", ABSENT)
        if not _same(ref_old, ref_new):  # only remote refs are left after resolving
            self.unknown("$ref", ref_old, ref_new, path)

    def unknown(self, key: str, old: Any, new: Any, path: str) -> None:
        message = f"{key} changed, which sfn-mcp cannot classify: review it by hand"
        self.emit(KEYWORD_CHANGED, path, message, old, new)

    def typed(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if not old:
            name = label(Branch(new, ()))
            message = self.says(f"now accepts only {name} (was any value)", f"now typed: {name}")
            self.emit(TYPE_NARROWED, path, message, new=new.get("type", ABSENT))
        else:
            name = label(Branch(old, ()))
            message = self.says(
                f"now accepts any value (was {name})", f"no longer typed (was {name})"
            )
            self.emit(TYPE_WIDENED, path, message, old=old.get("type", ABSENT))

    def types(
        self, old: dict[str, Any], new: dict[str, Any], relation: Relation, path: str
    ) -> None:
        was, now = label(Branch(old, ())), label(Branch(new, ()))
        values = {"old": old.get("type", ABSENT), "new": new.get("type", ABSENT)}
        if relation == "narrow":
            message = self.says(f"now accepts only {now} (was {was})", f"is now {now} (was {was})")
            self.emit(TYPE_NARROWED, path, message, **values)
        elif relation == "widen":
            message = self.says(
                f"now also accepts {now} (was {was})", f"may now be {now} (was {was})"
            )
            self.emit(TYPE_WIDENED, path, message, **values)
        else:
            self.emit(TYPE_CHANGED, path, f"type {was} -> {now}", **values)

    def values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if "const" in old and "const" in new:
            if not _same(old["const"], new["const"]):
                message = f"fixed value {fmt(old['const'])} -> {fmt(new['const'])}"
                self.emit(CONST_CHANGED, path, message, old["const"], new["const"])
            return
        allowed_old, allowed_new = allowed(old), allowed(new)
        if allowed_old is None and allowed_new is None:
            return
        is_const = "const" in old or "const" in new
        if allowed_old is None:
            shown = fmt(allowed_new, 80)
            message = self.says(f"now restricted to {shown}", f"now always one of {shown}")
            self.emit(CONST_ADDED if is_const else ENUM_ADDED, path, message, new=allowed_new)
            return
        if allowed_new is None:
            shown = fmt(allowed_old, 80)
            message = self.says(
                f"no longer restricted to {shown}", f"no longer restricted to {shown}"
            )
            self.emit(CONST_REMOVED if is_const else ENUM_REMOVED, path, message, old=allowed_old)
            return
        keys_new = {canonical(v) for v in allowed_new}
        keys_old = {canonical(v) for v in allowed_old}
        for value in allowed_old:
            if canonical(value) not in keys_new:
                message = self.says(
                    f"value {fmt(value)} no longer accepted",
                    f"value {fmt(value)} no longer returned",
                )
                self.emit(ENUM_VALUE_REMOVED, path, message, old=value)
        for value in allowed_new:
            if canonical(value) not in keys_old:
                message = self.says(
                    f"value {fmt(value)} now accepted",
                    f"new value {fmt(value)} may be returned: consumers that switch on the "
                    "values must handle it",
                )
                self.emit(ENUM_VALUE_ADDED, path, message, new=value)

    def constraint(self, path: str, key: str, old: Any, new: Any, effect: Effect) -> None:
        if effect == "none":
            return
        values = {"old": {key: old} if old is not ABSENT else ABSENT}
        values["new"] = {key: new} if new is not ABSENT else ABSENT
        self._constraint(path, key, key, old, new, effect, values)

    def _constraint(
        self,
        path: str,
        key_old: str,
        key_new: str,
        old: Any,
        new: Any,
        effect: Effect,
        values: dict[str, Any],
    ) -> None:
        """A constraint added (always narrows), removed (always widens) or changed: tighter
        (narrows), looser (widens) or neither (both)."""
        if old is ABSENT:
            message = f"new constraint {key_new} {fmt(new)}"
            self.emit(CONSTRAINT_ADDED, path, message, **values)
            return
        if new is ABSENT:
            message = f"constraint {key_old} {fmt(old)} removed"
            self.emit(CONSTRAINT_REMOVED, path, message, **values)
            return
        change = f"{key_old} {fmt(old)} -> {key_new} {fmt(new)}"
        if key_old == key_new:
            change = f"{key_old} {fmt(old)} -> {fmt(new)}"
        if effect == "narrow":
            self.emit(CONSTRAINT_TIGHTENED, path, f"{change} (tighter)", **values)
        elif effect == "widen":
            self.emit(CONSTRAINT_RELAXED, path, f"{change} (looser)", **values)
        else:
            message = f"{change}: values valid before may not be now"
            self.emit(CONSTRAINT_CHANGED, path, message, **values)

    def constraints(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        for key in COUNT_MAXIMA:
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            self.constraint(path, key, before, after, compare_limit(before, after, upper=True))
        for key in COUNT_MINIMA:
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if before in (ABSENT, 0) and after in (ABSENT, 0):  # minLength 0 constrains nothing
                continue
            self.constraint(path, key, before, after, compare_limit(before, after, upper=False))
        for upper in (False, True):
            self.numeric_bound(old, new, path, upper)
        for key in ("pattern", "format"):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            effect: Effect = "none"
            if before != after:
                effect = "narrow" if before is ABSENT else "widen" if after is ABSENT else "both"
            self.constraint(path, key, before, after, effect)
        before, after = old.get("multipleOf", ABSENT), new.get("multipleOf", ABSENT)
        self.constraint(path, "multipleOf", before, after, compare_multiple(before, after))
        before, after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if before != after:
            effect = "narrow" if after else "widen"
            self.constraint(
                path, "uniqueItems", ABSENT if after else True, True if after else ABSENT, effect
            )

    def numeric_bound(
        self, old: dict[str, Any], new: dict[str, Any], path: str, upper: bool
    ) -> None:
        before, after = bound(old, upper), bound(new, upper)
        if before == after:
            return
        if before is None or after is None:
            effect: Effect = "narrow" if before is None else "widen"
        else:
            sign = -1 if upper else 1
            tighter = (sign * after[1], after[2]) > (sign * before[1], before[2])
            effect = "narrow" if tighter else "widen"
        key_old = before[0] if before else ""
        key_new = after[0] if after else ""
        value_old = plain(before[1]) if before else ABSENT
        value_new = plain(after[1]) if after else ABSENT
        values = {
            "old": {key_old: value_old} if before else ABSENT,
            "new": {key_new: value_new} if after else ABSENT,
        }
        self._constraint(path, key_old, key_new, value_old, value_new, effect, values)

    def objects(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        props_old = old.get("properties") if isinstance(old.get("properties"), dict) else {}
        props_new = new.get("properties") if isinstance(new.get("properties"), dict) else {}
        assert isinstance(props_old, dict) and isinstance(props_new, dict)
        req_old, req_new = required(old), required(new)
        closed_new = new.get("additionalProperties") is False
        names = list(dict.fromkeys([*props_old, *sorted(req_old), *props_new, *sorted(req_new)]))
        for name in names:
            where = _child(path, name)
            known_old = name in props_old or name in req_old
            known_new = name in props_new or name in req_new
            if known_old and known_new:
                if name not in req_old and name in req_new:
                    message = self.says(
                        "now required: calls without it are rejected", "now always present"
                    )
                    self.emit(FIELD_NOW_REQUIRED, where, message)
                elif name in req_old and name not in req_new:
                    message = self.says(
                        "now optional",
                        "no longer always present: consumers must handle its absence",
                    )
                    self.emit(FIELD_NO_LONGER_REQUIRED, where, message)
                if name in props_old or name in props_new:
                    self.schema(props_old.get(name, {}), props_new.get(name, {}), where)
            elif known_old:
                self.removed_field(where, closed_new)
            elif name in req_new:
                message = self.says(
                    "new required field: calls without it are rejected",
                    "new field, always present",
                )
                self.emit(REQUIRED_FIELD_ADDED, where, message)
            else:
                message = self.says("new optional field", "new field (may be absent)")
                self.emit(FIELD_ADDED, where, message)
        self.additional(old, new, path)

    def removed_field(self, where: str, closed: bool) -> None:
        if self.side == "output":
            message = "removed from the result: consumers that read it will miss it"
            self.emit(FIELD_REMOVED, where, message)
        elif closed:
            message = (
                "removed: calls that still send it are rejected (the object allows no other "
                "properties)"
            )
            self.emit(FIELD_REMOVED, where, message)
        else:
            message = (
                "no longer described; still accepted as an extra property (the object is open), "
                "but the workflow may ignore it"
            )
            self.emit(FIELD_REMOVED, where, message, variant=FROM_OPEN_OBJECT)

    def additional(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        if before is False and after is not False:
            message = self.says(
                "now accepts properties the schema does not name",
                "may now contain properties the schema does not name",
            )
            self.emit(ADDITIONAL_PROPERTIES_OPENED, path, message, False, after)
        elif before is not False and after is False:
            message = self.says(
                "additionalProperties -> false: properties the schema does not name are rejected",
                "additionalProperties -> false: no properties beyond the named ones",
            )
            self.emit(ADDITIONAL_PROPERTIES_CLOSED, path, message, before, False)
        elif before is not False and not _same(before, after):
            self.schema(before, after, f"{path}.*")

    # -- annotations ---------------------------------------------------------------------------

    def annotations(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        for key in sorted(set(old) | set(new)):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if _same(before, after):
                continue
            if key == "default":
                self.default(before, after, path)
            elif key in WORDS_CHANGED:
                if before is ABSENT:
                    message = f"new {key} {fmt(after)}"
                elif after is ABSENT:
                    message = f"{key} {fmt(before)} removed"
                else:
                    message = f"{key} {fmt(before)} -> {fmt(after)}"
                self.emit(WORDS_CHANGED[key], path, message, before, after)
            else:
                message = f"annotation {key}: {show(before)} -> {show(after)}"
                self.emit(ANNOTATION_CHANGED, path, message, before, after)

    def default(self, before: Any, after: Any, path: str) -> None:
        if before is ABSENT:
            consequence = self.says(": calls that leave it out now send it", "")
            message = f"new default {fmt(after)}{consequence}"
            self.emit(DEFAULT_ADDED, path, message, new=after)
        elif after is ABSENT:
            consequence = self.says(": calls that leave it out no longer send it", "")
            message = f"default {fmt(before)} removed{consequence}"
            self.emit(DEFAULT_REMOVED, path, message, old=before)
        else:
            consequence = self.says(": calls that leave it out get the new value", "")
            message = f"default {fmt(before)} -> {fmt(after)}{consequence}"
            self.emit(DEFAULT_CHANGED, path, message, before, after)
