"""``readable``'s shortcuts (ASCII text at once, each distinct character asked once) give what
asking every character gives, for every code point."""

from __future__ import annotations

from sfn_mcp import text


def one_by_one(value: str) -> str:
    escaped = text._UNREADABLE.sub(text._escape, value)
    return "".join(f"\\u{ord(c):04x}" if text._format(c) else c for c in escaped)


def test_readable_matches_the_character_by_character_rule_on_every_code_point() -> None:
    every = "".join(chr(i) for i in range(0x110000))
    for start in range(0, len(every), 4096):
        chunk = every[start : start + 4096]
        assert text.readable(chunk) == one_by_one(chunk)
    for sample in ("plain", "tab\tnul\x00", "é only", "bidi \u202e here", "bom \ufeff", ""):
        assert text.readable(sample) == one_by_one(sample)
