"""What the readers find: reads of the execution input, whole parts of it handed to a service,
and notes; and the ``Sink`` that the readers of one place in the workflow report to.

A ``Read`` names the execution-input path, the state and the route-graph node where it happens
(``graph.py`` decides from the nodes what every route reads), how many leading segments of the
path must exist for the read not to fail (``strict``: a JSONPath ``$.a.b`` fails when ``a`` or
``a.b`` is missing, ``strict=2``; a JSONata ``$states.input.a.b = 'x'`` is just false, ``0``),
and what the read says about the type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from sfn_mcp.infer.values import SOME, Path, Value, contained_inputs

Kind = Literal["string", "number", "integer", "boolean", "array", "object"]
NodeId = tuple[str, ...]
Level = Literal["warning", "note"]


@dataclass(frozen=True)
class Read:
    path: Path
    state: str
    node: NodeId
    strict: int = 0
    kind: Kind | None = None
    date_time: bool = False
    nullable: bool = False
    compared: tuple[str, ...] = ()  # JSON texts of the literals the value is compared with
    usage: str = ""  # how it is used when that says something the type cannot: "converted to text"


@dataclass(frozen=True)
class Escape:
    """A part of the execution input that a task receives whole."""

    path: Path
    state: str
    where: str  # the key path in what the task receives, "" for all of it
    target: str  # how the receiver is named: "Lambda", "another state machine" …


@dataclass(frozen=True)
class Note:
    """Something the inference could not see, or chose not to say; ``state`` names the state it
    is about (``None``: the whole definition)."""

    level: Level
    message: str
    hint: str = ""
    state: str | None = None


@dataclass
class Recorder:
    reads: list[Read] = field(default_factory=list)
    escapes: list[Escape] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def literal_text(value: object) -> str | None:
    """A comparable literal as canonical JSON text, ``None`` for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return None


@dataclass(frozen=True)
class Sink:
    """Where the readers of one node of one state report."""

    recorder: Recorder
    state: str
    node: NodeId

    def at(self, node: NodeId) -> Sink:
        return Sink(self.recorder, self.state, node)

    def touch(
        self,
        value: Value,
        *,
        strict: bool = False,
        kind: Kind | None = None,
        date_time: bool = False,
        nullable: bool = False,
        compared: tuple[str, ...] = (),
        usage: str = "",
    ) -> None:
        """``value`` is read here: every part of the execution input it is becomes a read.

        A strict read fails when the path is missing, but only counts as such when every
        route agrees on what the value is (one shape): otherwise some route reads something
        else here."""
        single = value.single is not None
        for alt in value.alts:
            if alt.origin is None:
                continue
            # below an element picked by index or filter, nothing is required of every item
            must = alt.origin.index(SOME) if SOME in alt.origin else len(alt.origin)
            self.recorder.reads.append(
                Read(
                    alt.origin,
                    self.state,
                    self.node,
                    must if strict and single else 0,
                    kind,
                    date_time,
                    nullable,
                    compared,
                    usage,
                )
            )

    def escape(self, value: Value, target: str, where: tuple[str, ...] = ()) -> None:
        for path, at in contained_inputs(value):
            self.recorder.escapes.append(Escape(path, self.state, ".".join((*where, *at)), target))

    def note(self, message: str, hint: str = "", level: Level = "note") -> None:
        self.recorder.notes.append(Note(level, message, hint, self.state))
