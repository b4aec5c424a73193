"""Stage 3, models: every schema the selected machines use → a Pydantic module
(datamodel-code-generator), before the IR is built from them."""

from __future__ import annotations

from collections.abc import Mapping

from sfn_mcp.cache import Cache
from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.models.batch import Failure, outcomes
from sfn_mcp.models.generate import EventInfo, GeneratedModel, generate_model
from sfn_mcp.models.profile import PROFILES, Profile
from sfn_mcp.read.records import MachineSource, Role, SchemaSource

ModelKey = tuple[str, str, Role]  # schema ARN, version, role
FIX = "fix the schema in the EventBridge Schema Registry"

__all__ = [
    "PROFILES",
    "EventInfo",
    "GeneratedModel",
    "ModelKey",
    "Profile",
    "generate_model",
    "generate_models",
]


def schemas_of(machines: list[MachineSource]) -> dict[ModelKey, SchemaSource]:
    """Each schema version the machines use, once per role (input or output)."""
    schemas: dict[ModelKey, SchemaSource] = {}
    for m in machines:
        roles: tuple[tuple[Role, SchemaSource | None], ...] = (
            ("input", m.schema),
            ("output", m.output_schema),
        )
        for role, source in roles:
            if source:
                schemas[(source.ref.arn, source.version, role)] = source
    return schemas


def generate_models(
    machines: list[MachineSource],
    diagnostics: Diagnostics,
    cache: Cache | None = None,
    profile: Profile = "portable",
) -> Mapping[ModelKey, GeneratedModel]:
    """The model of every schema that can be used, by key. A schema that cannot is a warning
    naming it and the machines that use it, whose tools then go untyped: a safe choice, never a
    half-typed model. With ``cache``, models (and failures) of unchanged schemas are read from
    it instead of generated."""
    wanted = sorted(schemas_of(machines).items())
    found = outcomes([(schema, key[2], profile) for key, schema in wanted], cache)
    models: dict[ModelKey, GeneratedModel] = {}
    for (key, schema), outcome in zip(wanted, found, strict=True):
        if not isinstance(outcome, Failure):
            models[key] = outcome
            continue
        exc = outcome.error()
        users = ", ".join(
            m.name
            for m in machines
            if (m.schema if key[2] == "input" else m.output_schema) == schema
        )
        untyped = "the tool is untyped" if key[2] == "input" else "the output stays untyped"
        for d in exc.diagnostics:
            diagnostics.warning(
                f"{d.message.rstrip('. ')} ({key[2]} of {users}); {untyped}",
                d.hint or exc.hint or FIX,
            )
    return models
