"""The output formats of ``sfn-mcp diff``, one module each: ``text`` (a terminal), ``markdown``
(a pull-request comment) and ``json`` (machines), and what they share (``summary``).
``RENDERERS`` maps each ``--format`` name to its renderer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from sfn_mcp.review.render.json import render_json
from sfn_mcp.review.render.markdown import render_markdown
from sfn_mcp.review.render.summary import summarize, summary_line
from sfn_mcp.review.render.text import render_text
from sfn_mcp.review.surface import Change, Surface


class Renderer(Protocol):
    def __call__(
        self, changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
    ) -> str: ...


RENDERERS: Final[dict[str, Renderer]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}

__all__ = [
    "RENDERERS",
    "Renderer",
    "render_json",
    "render_markdown",
    "render_text",
    "summarize",
    "summary_line",
]
