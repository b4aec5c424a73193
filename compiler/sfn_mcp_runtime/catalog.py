"""Which workflow tools a server has, and when each is built.

A generated ``tools.py`` gives one ``Entry`` per workflow: its name, its ``Workflow`` (cheap
constants) and a function that imports the tool's model modules and builds its ``Tool``. The
server starts with the entries only and serves ``tools/list`` from ``listing.json``, the listing
the compiler read from this same code (``sfn-mcp check --offline`` keeps the two equal); a tool
is built on its first call, so start-up does not grow with the number of models.

Imports nothing beyond the standard library, ``contract`` and ``definitions``.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .contract import LISTING, LISTING_FORMAT
from .definitions import Tool, Workflow

logger = logging.getLogger("sfn_mcp.runtime")


class Named(Protocol):
    """What the server knows of a workflow tool before it is built (a ``Tool`` is one too)."""

    @property
    def name(self) -> str: ...

    @property
    def workflow(self) -> Workflow | None: ...


@dataclass(frozen=True)
class Entry:
    """One workflow tool, not built yet: ``load`` imports its models and builds it."""

    name: str
    workflow: Workflow
    load: Callable[[], Tool[Any]]


class Catalog:
    """The workflow tools of a server, each built once, on first use."""

    def __init__(self, entries: Iterable[Named], listing: Path | None = None) -> None:
        self.entries: dict[str, Named] = {entry.name: entry for entry in entries}
        self.listing_path = listing
        self._built: dict[str, Tool[Any]] = {
            entry.name: entry for entry in self.entries.values() if isinstance(entry, Tool)
        }

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def tool(self, name: str) -> Tool[Any]:
        """The built tool ``name`` (a KeyError for a name the catalog does not have)."""
        built = self._built.get(name)
        if built is None:
            entry = self.entries[name]
            assert isinstance(entry, Entry)
            built = entry.load()
            if built.name != name:  # a generated tools.py always agrees; a hand-made one may not
                raise ValueError(f"the entry {name!r} built the tool {built.name!r}")
            self._built[name] = built
        return built

    def all_tools(self) -> tuple[Tool[Any], ...]:
        """Every tool, built (each model module imported)."""
        return tuple(self.tool(name) for name in self.entries)

    def listed(self) -> list[dict[str, Any]] | None:
        """The ``tools/list`` entries recorded in ``listing.json`` (every tool the server serves,
        in the order it serves them), or None when there is no usable file."""
        if self.listing_path is None:
            return None
        try:
            text = self.listing_path.read_bytes()
            # decoding makes no reference cycles, yet its many objects would set off full
            # collections of the heap the imports left (six times the decode, at 1000 tools)
            collecting = gc.isenabled()
            gc.disable()
            try:
                data = json.loads(text)
            finally:
                if collecting:
                    gc.enable()
        except (OSError, ValueError) as exc:
            logger.warning("%s unreadable (%s): building every tool to list them", LISTING, exc)
            return None
        tools = data.get("tools") if isinstance(data, dict) else None
        if not isinstance(tools, list) or data.get("listingFormat") != LISTING_FORMAT:
            logger.warning("%s is not of format %d: building every tool", LISTING, LISTING_FORMAT)
            return None
        return tools


def all_tools(entries: Iterable[Entry]) -> tuple[Tool[Any], ...]:
    """Every entry's tool, built: what ``tools.TOOLS`` gives."""
    return Catalog(entries).all_tools()
