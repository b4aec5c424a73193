"""``infer_input``: a state machine's execution input schema, inferred from its definition."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sfn_mcp.diagnostics import Diagnostic
from sfn_mcp.infer.asl import as_list, processor, states_of
from sfn_mcp.infer.facts import Note
from sfn_mcp.infer.graph import build_graph, required_paths
from sfn_mcp.infer.samples import sample_shape
from sfn_mcp.infer.schema import SchemaBuilder
from sfn_mcp.infer.walk import Walker


@dataclass(frozen=True)
class Inference:
    """What the definition says about the execution input.

    ``schema`` is a Draft 2020-12 JSON Schema with an open object at the root, or ``None`` when
    the definition reads nothing of its input (or reads it as something other than an object).
    ``notes`` say where the inference stops, in the order of the states they are about."""

    schema: dict[str, Any] | None
    notes: tuple[Note, ...]

    @property
    def inferred(self) -> bool:
        return self.schema is not None

    def schema_json(self) -> str:
        """The schema as canonical JSON text (sorted keys), ``null`` when none was inferred."""
        return json.dumps(self.schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def notes_text(self) -> str:
        return "".join(f"{n.level}: {n.message}\n" for n in self.notes)

    def diagnostics(self, machine: str) -> list[Diagnostic]:
        """The notes as diagnostics naming ``machine`` (the CLI prints these)."""
        return [
            Diagnostic(note.level, f"state machine '{machine}': {note.message}", note.hint)
            for note in self.notes
        ]


def _state_names(scope: Any) -> Iterator[str]:
    states, _ = states_of(scope)
    for name, state in states.items():
        yield str(name)
        if isinstance(state, dict):
            for branch in as_list(state.get("Branches")):
                yield from _state_names(branch)
            yield from _state_names(processor(state))


def infer_input(definition: str, samples: Sequence[object] = ()) -> Inference:
    """Infer the execution input schema of the ASL ``definition`` (its JSON text).

    ``samples`` are execution inputs seen in practice (parsed JSON): their shapes type the
    fields the definition reads without saying how, and add the fields it never reads, as
    optional; never their values, never ``required``.

    Pure and deterministic: the same definition and samples give the same schema, byte for
    byte (see ``Inference.schema_json``)."""
    try:
        document = json.loads(definition)
    except (TypeError, ValueError) as error:
        return Inference(None, (Note("warning", f"the definition is not JSON ({error})"),))
    if not isinstance(document, dict) or not isinstance(document.get("States"), dict):
        return Inference(None, (Note("warning", "the definition has no States to read"),))

    walker = Walker(document)
    recorder = walker.run()
    required = required_paths(build_graph(document), recorder.reads)
    order = {name: index for index, name in enumerate(dict.fromkeys(_state_names(document)))}

    def rank(state: str) -> int:
        return order.get(state, len(order))

    builder = SchemaBuilder(
        recorder.reads, required, recorder.escapes, rank, sample_shape(samples), len(samples)
    )
    schema = builder.build()
    notes = [*recorder.notes, *builder.notes]
    notes.extend(
        Note(
            "note",
            f"the input of state `{name}` still changed after many rounds of a loop: what it "
            "reads may be incomplete",
            state=name,
        )
        for name in walker.unsettled
    )
    unique = dict.fromkeys(notes)
    ordered = sorted(
        unique, key=lambda n: (-1 if n.state is None else rank(n.state), n.message, n.hint)
    )
    return Inference(schema, tuple(ordered))
