"""What the repository readers find before selection: machines (with the tags that could not be
resolved) and the schemas a template defines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sfn_mcp.read.records import Candidate, SchemaSource
from sfn_mcp.settings import Settings


@dataclass(frozen=True)
class FoundMachine:
    machine: Candidate
    tags: Mapping[str, str]
    definition: str
    where: str  # "template.yaml: resource Orders (AWS::StepFunctions::StateMachine)"
    # Tags whose value is known only after deployment: key → why, and what would supply it.
    unresolved_tags: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    auto_publish_alias: str = ""
    logical_id: str = ""  # in a template; "" for a definition file


@dataclass(frozen=True)
class FoundSchema:
    """A schema a template defines (``AWS::EventSchemas::Schema``)."""

    source: SchemaSource | None  # None: its content is known only after deployment
    where: str
    logical_id: str
    default_version: bool  # the version is the registry's first ("1"), not a configured one
    problem: str = ""  # why source is None


def shown(path: Path, settings: Settings) -> str:
    """A path as a reader of the diagnostics knows it: relative to the configuration file's
    folder (else the current folder) when inside it."""
    bases = [settings.config_file.parent] if settings.config_file else []
    for base in [*bases, Path.cwd()]:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)
