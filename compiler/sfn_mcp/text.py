"""Text from AWS as a reviewer may safely read it.

Control characters (NUL makes git call a file binary and hide its diff; ESC starts terminal
sequences), DEL, C1 controls, bidirectional overrides and isolates (which reorder what a reviewer
sees, as in "Trojan Source") and other invisible format characters never reach a generated file
as themselves: they are written as visible escapes (``\\u202e``). JSON and Python files escape
them in their own syntax, so the value is unchanged; in Markdown the escape is what is shown.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# Cc (controls) except tab and newline, Cf (format: bidi controls, zero-width characters, BOM),
# line and paragraph separators, and lone surrogates.
_UNREADABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def unreadable(text: str) -> list[str]:
    """The unreadable characters of ``text``, by name (for a diagnostic)."""
    found = sorted(set(_UNREADABLE.findall(text)) | {c for c in text if _format(c)})
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'control')}" for c in found]


def _format(char: str) -> bool:
    return unicodedata.category(char) in ("Cf", "Cs")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def readable(text: str) -> str:
    """``text`` with every unreadable character written as a ``\\uXXXX`` escape."""
    escaped = _UNREADABLE.sub(_escape, text)
    if escaped.isascii():  # no format character is ASCII: the common case, at once
        return escaped
    hidden = {c for c in set(escaped) if _format(c)}  # each distinct character asked once
    if not hidden:
        return escaped
    return "".join(f"\\u{ord(c):04x}" if c in hidden else c for c in escaped)


def readable_json(document: Any) -> str:
    """JSON (2-space indent, non-ASCII kept readable) in which no unreadable character appears
    as itself: inside strings, JSON's own ``\\uXXXX`` escapes keep the value exact."""
    return readable(json.dumps(document, indent=2, ensure_ascii=False))
