"""Infer room: what a state machine's definition says about its execution input and its effects.

It sits right after the read stage and before models: a machine without an input schema can
still get a typed tool from what its definition reads.

- ``infer_input(definition) -> Inference``: a Draft 2020-12 JSON Schema of the execution input
  (open objects, types from the operators that read each field, required where every route
  reads it) and notes where inference stops.
- ``infer_hints(definition, machine_arn=None) -> HintInference``: ``readOnlyHint``,
  ``destructiveHint``, ``openWorldHint`` from what the tasks call, each with its reason.

Stages inside: ``walk`` (states → reads, through ``refs`` for JSONPath, ``intrinsics``,
``jsonata_expr`` for JSONata), ``graph`` (routes → required), ``schema`` (reads → JSON Schema),
``hints`` (the integration table).
"""

from sfn_mcp.infer.facts import Note
from sfn_mcp.infer.hints import INTEGRATIONS, Hint, HintInference, infer_hints
from sfn_mcp.infer.inference import Inference, infer_input
from sfn_mcp.infer.stage import apply_inference

__all__ = [
    "INTEGRATIONS",
    "Hint",
    "HintInference",
    "Inference",
    "Note",
    "apply_inference",
    "infer_hints",
    "infer_input",
]
