"""What the read stage hands on: the selected machines and their sources, as plain records.

Every later stage (models, IR, render, surface) reads only these, whatever the source was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Role = Literal["input", "output"]
# The registry name of a schema sfn-mcp inferred from a definition (and its ARN's scheme).
INFERRED = "inferred"


@dataclass(frozen=True)
class Candidate:
    name: str
    arn: str
    type: str


@dataclass(frozen=True)
class Selected:
    machine: Candidate
    tags: Mapping[str, str]


@dataclass(frozen=True)
class SchemaRef:
    arn: str
    region: str
    registry: str
    name: str


@dataclass(frozen=True)
class SchemaSource:
    ref: SchemaRef
    version: str
    type: str
    content: str
    description: str


@dataclass(frozen=True)
class MachineSource:
    name: str
    arn: str
    type: str
    definition: str
    comment: str
    tags: Mapping[str, str]
    schema: SchemaSource | None
    output_schema: SchemaSource | None = None
    # What tools run when not the machine as it is: "alias:NAME" or "version:N", the ARN they
    # start (the alias's or the version's) and the version whose definition was read.
    target: str = ""
    target_arn: str = ""
    version_arn: str = ""


RECORDS_FORMAT = 1
TARGET_KEYS = ("target", "target_arn", "version_arn")  # written only when set


def _schema_json(schema: SchemaSource | None) -> dict[str, Any] | None:
    return asdict(schema) if schema else None


def _schema_of(data: Any) -> SchemaSource | None:
    if data is None:
        return None
    return SchemaSource(
        ref=SchemaRef(**data["ref"]), **{k: v for k, v in data.items() if k != "ref"}
    )


def dump_records(machines: list[MachineSource]) -> str:
    """The read stage's output as canonical JSON (sorted by machine name), e.g. to compile later
    with no AWS."""
    document = {
        "recordsFormat": RECORDS_FORMAT,
        "machines": [
            {
                **{
                    k: v
                    for k, v in asdict(m).items()
                    if k not in ("schema", "output_schema") and not (k in TARGET_KEYS and not v)
                },
                "tags": dict(sorted(m.tags.items())),
                "schema": _schema_json(m.schema),
                "output_schema": _schema_json(m.output_schema),
            }
            for m in sorted(machines, key=lambda m: m.name)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_records(text: str) -> list[MachineSource]:
    """Records written by ``dump_records``; ValueError when the text is not such a file."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("recordsFormat") != RECORDS_FORMAT:
        raise ValueError(f"not a records file of format {RECORDS_FORMAT}")
    return [
        MachineSource(
            **{k: v for k, v in m.items() if k not in ("schema", "output_schema")},
            schema=_schema_of(m["schema"]),
            output_schema=_schema_of(m["output_schema"]),
        )
        for m in document["machines"]
    ]
