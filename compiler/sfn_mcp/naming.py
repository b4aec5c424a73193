"""Naming rules: MCP tool names, Python identifiers, module and class names.

Tool names must satisfy the strictest client rule in use, ``^[a-zA-Z0-9_-]{1,64}$``; we emit
snake_case (``[a-z0-9_]``) so the same string also works as a Python function name.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import unicodedata

MAX_TOOL_NAME = 64
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def snake_case(text: str) -> str:
    """``OrderLookup`` → ``order_lookup``, ``Fail.Job`` → ``fail_job``, ``größe`` → ``grosse``."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    spaced = _CAMEL_BOUNDARY.sub("_", ascii_text).lower()
    return _NOT_WORD.sub("_", spaced).strip("_")


def pascal_case(text: str) -> str:
    """``daily-etl request`` → ``DailyEtlRequest``; keeps inner capitals (``OrderPlaced``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", ascii_text) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts)
    if not name:
        return ""
    return name if not name[0].isdigit() else f"M{name}"


def strip_prefix(machine_name: str, prefix: str) -> str:
    if prefix and machine_name.startswith(prefix):
        return machine_name[len(prefix) :]
    return machine_name


def tool_name(machine_name: str, prefix: str) -> str:
    """The MCP tool name for a state machine, or "" when nothing usable is left.

    The prefix is stripped (as the anchor server does); names longer than 64 characters are cut
    and given a stable 8-character hash of the full machine name so that two long names sharing
    a beginning stay distinct.
    """
    name = snake_case(strip_prefix(machine_name, prefix))
    if len(name) > MAX_TOOL_NAME:
        digest = hashlib.sha256(machine_name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_TOOL_NAME - 9].rstrip('_')}_{digest}"
    return name


def title(tool: str, text: str = "") -> str:
    """A human title from a tool name: ``order_processing`` → ``Order processing``. When ``text``
    (the definition's Comment) starts with the same words, its spelling wins: ``daily_etl`` with
    "Daily ETL: for one business date…" → ``Daily ETL``."""
    words = tool.replace("_", " ").split()
    found = re.findall(r"[A-Za-z0-9]+", text)[: len(words)]
    if words and [w.lower() for w in found] == [w.lower() for w in words]:
        words = found
    joined = " ".join(words)
    return joined[:1].upper() + joined[1:]


def python_identifier(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """A safe Python identifier for a generated function or constant.

    Names that start with a digit, are keywords, shadow builtins or collide with ``reserved``
    (the names a generated module imports) get a ``_tool`` suffix or a ``tool_`` prefix.
    """
    if not name or name[0].isdigit():
        name = f"tool_{name}"
    if keyword.iskeyword(name) or hasattr(builtins, name) or name in reserved:
        name = f"{name}_tool"
    return name
