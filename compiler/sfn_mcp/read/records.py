"""What the read stage hands on: the selected machines and their sources, as plain records.

Every later stage (models, IR, render, surface) reads only these, whatever the source was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Role = Literal["input", "output"]


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
