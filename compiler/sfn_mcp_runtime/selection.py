"""Which of a package's workflow tools one server offers, and how it lists them.

A package is compiled once; each server started from it may offer a part of it (``--tool``,
``--tag``, ``--read-only``), every tool on its own or a few search tools instead
(``--surface``), and its ``tools/list`` in pages (``--page-size``). A ``View`` says all of that;
``chosen`` applies its filters. Tools a view leaves out cannot be called either: that is what
lets one package serve a team a part of it.

Imports nothing beyond the standard library, ``catalog`` and ``definitions``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .catalog import Named
from .definitions import Workflow

Surface = Literal["all", "search"]
SURFACES: tuple[Surface, ...] = ("all", "search")
MAX_PAGE_SIZE = 10_000


class ViewError(ValueError):
    """A filter that cannot be applied: it names a tool the package lacks, or leaves nothing."""


@dataclass(frozen=True)
class View:
    """What one server offers of its package.

    ``tools``: keep these tools (any of them); ``tags``: keep machines with every one of these
    tags (a value of None: any value); ``read_only``: keep read-only tools only. The filters
    add up (a tool must pass each one given). ``page_size`` 0 lists every tool in one page."""

    surface: Surface = "all"
    tools: tuple[str, ...] = ()
    tags: tuple[tuple[str, str | None], ...] = ()
    read_only: bool = False
    page_size: int = 0
    # where ``tools`` came from, for messages: the flag, or its variable
    tools_from: str = field(default="--tool", compare=False, repr=False)

    @property
    def filtered(self) -> bool:
        return bool(self.tools or self.tags or self.read_only)

    def describe(self) -> str:
        """The filters, as the command line would give them."""
        parts = [f"--tool {name}" for name in self.tools]
        parts += [f"--tag {k}" + ("" if v is None else f"={v}") for k, v in self.tags]
        parts += ["--read-only"] if self.read_only else []
        return " ".join(parts) or "no filter"

    def chosen(
        self, entries: Mapping[str, Named], read_only: Callable[[str], bool]
    ) -> tuple[str, ...]:
        """The names of the workflow tools this view keeps, in the package's order.
        ``read_only(name)``: the tool's readOnlyHint (asked only with ``read_only`` set)."""
        unknown = [name for name in self.tools if name not in entries]
        if unknown:
            raise ViewError("; ".join(_unknown(name, entries, self.tools_from) for name in unknown))
        kept = [
            name
            for name, entry in entries.items()
            if (not self.tools or name in self.tools)
            and all(_tagged(entry.workflow, key, value) for key, value in self.tags)
            and (not self.read_only or read_only(name))
        ]
        if not kept:
            raise ViewError(
                f"{self.describe()} leaves none of the package's {len(entries)} workflow tools; "
                "loosen the filters (a tool must pass every one given)"
            )
        return tuple(kept)


def _unknown(name: str, entries: Mapping[str, Named], tools_from: str) -> str:
    near = difflib.get_close_matches(name, list(entries), n=1)
    also = f" (did you mean {near[0]}?)" if near else ""
    return f"{tools_from} {name}: the package has no such tool{also}"


def _tagged(workflow: Workflow | None, key: str, value: str | None) -> bool:
    if workflow is None:
        return False
    tags = dict(workflow.tags)
    return key in tags and (value is None or tags[key] == value)


def parse_tag(text: str, source: str = "--tag") -> tuple[str, str | None]:
    """``KEY=VALUE`` (the first ``=`` splits) or ``KEY`` alone (any value); spaces around
    either half are not part of it."""
    key, equals, value = text.partition("=")
    if not key.strip():
        raise ViewError(f"{source} {text!r}: give KEY=VALUE, or KEY for any value")
    return key.strip(), value.strip() if equals else None


def fingerprint(tools: Sequence[dict[str, Any]], view: View) -> str:
    """What names one listing for its cursors: its tools' names and the view that chose them
    (two search servers list the same four names, but not for the same workflows)."""
    names = "\n".join(str(t.get("name")) for t in tools)
    return hashlib.sha256(f"{view!r}\n{names}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


MAX_CURSOR = 200  # characters: every cursor this server gives is far shorter


def listed_page(
    tools: Sequence[dict[str, Any]], page_size: int, cursor: str | None, fingerprint: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a ``tools/list``: the entries from ``cursor`` on, and the next page's cursor.

    A cursor names where its page starts and which listing it belongs to (``fingerprint``):
    one from another server, or from before a restart with other filters, is refused with
    ``InvalidCursor`` instead of skipping or repeating tools."""
    if page_size <= 0 and cursor is None:
        return list(tools), None
    start = 0 if cursor is None else _offset(cursor, fingerprint, len(tools))
    end = len(tools) if page_size <= 0 else start + page_size
    following = None
    if end < len(tools):
        token = json.dumps({"offset": end, "listing": fingerprint}, separators=(",", ":"))
        following = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return list(tools[start:end]), following


class InvalidCursor(ValueError):
    """A ``tools/list`` cursor this server did not give out (or gave for another listing)."""


def _offset(cursor: str, fingerprint: str, count: int) -> int:
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor("the cursor is not one this server gave out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        token = json.loads(raw)
        offset, listing = token["offset"], token["listing"]
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError):
        raise InvalidCursor("the cursor is not one this server gave out") from None
    if listing != fingerprint:
        raise InvalidCursor("the cursor belongs to another tool list: list the tools again")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset < count:
        raise InvalidCursor("the cursor points outside the tool list: list the tools again")
    return offset
