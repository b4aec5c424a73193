"""What the repository readers find before selection: machines (with the tags that could not be
resolved) and the schemas a template defines."""

from __future__ import annotations

import unicodedata
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


NAME_FORBIDDEN = set('<>{}[]?*"#%\\^|~`$&,;:/')
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden(char: str) -> bool:
    """A character a reader of the name cannot see: a control, format (bidi) or surrogate one."""
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or code in (0xFFFE, 0xFFFF)
        or char in BIDI
        or unicodedata.category(char) in ("Cf", "Cs")
    )


def escaped(text: str) -> str:
    """``text`` quoted, with every hidden character written as ``\\uXXXX``."""
    inner = "".join(f"\\u{ord(c):04x}" if _hidden(c) else c for c in text)
    return "'" + inner.replace("'", "\\'") + "'"


def name_problem(name: str) -> str:
    """What is wrong with a state machine name, by CreateStateMachine's rules (1-80 characters;
    no white space, brackets, wildcards, ``"#%\\^|~`$&,;:/``, control characters), else ""."""
    if not name:
        return "is empty"
    if any(_hidden(c) for c in name):
        return f"{escaped(name)} holds control or bidirectional characters"
    if len(name) > 80:
        return f"{escaped(name)} is {len(name)} characters long (at most 80)"
    bad = sorted({c for c in name if c in NAME_FORBIDDEN or c.isspace()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"{escaped(name)} holds characters a name may not hold: {shown}"
    return ""
