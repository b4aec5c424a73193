"""What a state sees, in terms of the execution input: a small symbolic value domain.

A ``Value`` is the set of shapes a JSON value can have at one point of the workflow, one per
route that reaches it (``alts``). A ``Shape`` is either a part of the execution input
(``origin``: the path it was read from, ``()`` for the whole input), something that is not (a
task result, a literal: ``origin=None``), or either of those with some keys set on top
(``fields``: what ``ResultPath: "$.x"``, ``Parameters`` or an ``Output`` object put there).

Reading ``$.a.b`` of a value follows ``fields`` first and falls back to the origin; setting a
path (``ResultPath``) adds a field. Nothing here knows about states: the walker
(``walk.py``) moves values from state to state, the path and expression readers turn a read
into the execution-input paths it touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum


class Item(Enum):
    """Path segments for array elements. ``ITEM`` is *each* element (a Map iteration: every
    item goes through it, so what it reads strictly is required of every item); ``SOME`` is an
    element picked by an index, a filter or ``States.ArrayGetItem`` (nothing it reads is
    required of every item). The schema shows both as the array's ``items``."""

    ITEM = "[]"
    SOME = "[?]"


ITEM = Item.ITEM
SOME = Item.SOME
Segment = str | Item
Path = tuple[Segment, ...]

MAX_DEPTH = 24  # a longer path (a loop that keeps descending) is no longer followed
MAX_ALTS = 4  # more origins than this at one point (a loop that keeps descending) are cut


@dataclass(frozen=True)
class Shape:
    origin: Path | None
    fields: tuple[tuple[str, Value], ...] = ()

    def field(self, key: str) -> Value | None:
        for name, value in self.fields:
            if name == key:
                return value
        return None


@dataclass(frozen=True)
class Value:
    alts: frozenset[Shape]

    @property
    def single(self) -> Shape | None:
        """The one shape every route agrees on, if they do."""
        if len(self.alts) == 1:
            return next(iter(self.alts))
        return None


UNKNOWN = Value(frozenset({Shape(None)}))


def from_input(path: Path = ()) -> Value:
    return Value(frozenset({Shape(path)}))


def constructed(fields: Mapping[str, Value]) -> Value:
    """An object built by the definition (``Parameters``, an ``Output`` object …)."""
    return Value(frozenset({Shape(None, tuple(sorted(fields.items())))}))


def join(values: Iterable[Value]) -> Value:
    """What a value is when any of ``values`` can arrive. Shapes of one origin are merged key
    by key (a key set on one route only is that value or the origin's, on the others), so that
    routes setting different ``ResultPath`` fields do not multiply the shapes."""
    by_origin: dict[Path | None, set[Shape]] = {}
    for value in values:
        for alt in value.alts:
            by_origin.setdefault(alt.origin, set()).add(alt)
    if not by_origin:
        return UNKNOWN
    merged = [_merge(origin, shapes) for origin, shapes in by_origin.items()]
    if len(merged) > MAX_ALTS:
        # a loop that keeps descending (``OutputPath: "$.next"``): keep the shallowest shapes,
        # and say that something else can arrive too (nothing read here is then strict)
        merged.sort(key=_shape_key)
        merged = [*merged[: MAX_ALTS - 1], Shape(None)]
    return Value(frozenset(merged))


def _shape_key(shape: Shape) -> tuple[int, int, tuple[tuple[int, str], ...]]:
    if shape.origin is None:
        return (0, 0, ())
    return (1, len(shape.origin), path_key(shape.origin))


def _merge(origin: Path | None, shapes: set[Shape]) -> Shape:
    if len(shapes) == 1:
        return next(iter(shapes))
    names = sorted({name for shape in shapes for name, _ in shape.fields})
    fields: list[tuple[str, Value]] = []
    for name in names:
        parts = []
        for shape in shapes:
            own = shape.field(name)
            parts.append(own if own is not None else _get_shape(Shape(origin), [name]))
        fields.append((name, join(parts)))
    return Shape(origin, tuple(fields))


def get(value: Value, segments: Sequence[Segment]) -> Value:
    """The value at ``segments`` below ``value``."""
    if not segments:
        return value
    return join(_get_shape(alt, segments) for alt in value.alts)


def _get_shape(shape: Shape, segments: Sequence[Segment]) -> Value:
    if not segments:
        return Value(frozenset({shape}))
    head = segments[0]
    if isinstance(head, str):
        inner = shape.field(head)
        if inner is not None:
            return get(inner, segments[1:])
    if shape.origin is None:
        return UNKNOWN
    path = shape.origin + tuple(segments)
    if len(path) > MAX_DEPTH:
        return UNKNOWN
    return from_input(path)


def put(value: Value, segments: Sequence[Segment], new: Value) -> Value:
    """``value`` with ``new`` set at ``segments`` (what ``ResultPath`` does)."""
    if not segments:
        return new
    head = segments[0]
    if not isinstance(head, str):
        return UNKNOWN
    alts: list[Value] = []
    for shape in value.alts:
        inner = put(_get_shape(shape, [head]), segments[1:], new)
        fields = {name: v for name, v in shape.fields if name != head}
        fields[head] = inner
        alts.append(Value(frozenset({Shape(shape.origin, tuple(sorted(fields.items())))})))
    return join(alts)


def input_paths(value: Value) -> list[Path]:
    """The execution-input paths ``value`` is, on the routes where it is one (top level only)."""
    return sorted({alt.origin for alt in value.alts if alt.origin is not None}, key=path_key)


def contained_inputs(value: Value, at: tuple[str, ...] = ()) -> list[tuple[Path, tuple[str, ...]]]:
    """Every part of the execution input that ``value`` carries whole, with where it sits in
    ``value`` (the key path): what a task that receives ``value`` gets without the definition
    saying which of its fields matter."""
    found: set[tuple[Path, tuple[str, ...]]] = set()
    for alt in value.alts:
        if alt.origin is not None:
            found.add((alt.origin, at))
        for name, inner in alt.fields:
            found.update(contained_inputs(inner, (*at, name)))
    return sorted(found, key=lambda item: (path_key(item[0]), item[1]))


def path_key(path: Path) -> tuple[tuple[int, str], ...]:
    """A sort key for paths (``Item`` does not compare with ``str``)."""
    return tuple(
        (0, segment) if isinstance(segment, str) else (1, segment.value) for segment in path
    )


def is_identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii()


def display(path: Path) -> str:
    """``$.detail['instance-id'].items[]``: how notes name a path of the execution input."""
    text = "$"
    for segment in path:
        if isinstance(segment, Item):
            text += "[]"
        elif is_identifier(str(segment)):
            text += f".{segment}"
        else:
            quoted = str(segment).replace("\\", "\\\\").replace("'", "\\'")
            text += f"['{quoted}']"
    return text
