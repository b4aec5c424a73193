"""Unreadable characters from AWS never reach a file a reviewer reads as themselves."""

from __future__ import annotations

import json

import pytest

from sfn_mcp.pipeline import compile_records
from sfn_mcp.settings import Settings
from sfn_mcp.text import readable, readable_json
from tests.sources import machine

HOSTILE = "a\u202eb\u2066c\x00d\x1b[31me\x7ff\u200bg\ufeffh\u2028i\ud800j"


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\x00", "\x1b", "\x7f", "\u200b", "\ud800"])
def test_readable_escapes_each_unreadable_character(char: str) -> None:
    assert char not in readable(f"x{char}y")
    assert f"\\u{ord(char):04x}" in readable(f"x{char}y")


def test_readable_json_keeps_the_value_exact() -> None:
    document = {"text": HOSTILE, "fine": "é 🚀 tab\tnewline\n"}
    text = readable_json(document)
    assert json.loads(text) == document
    assert "é 🚀" in text
    assert all(c not in text for c in "\u202e\u2066\x00\x1b\x7f\u200b\ufeff\u2028")
    text.encode("utf-8")  # no lone surrogate left


def test_the_manifest_of_a_hostile_comment_is_readable_and_exact() -> None:
    compiled = compile_records(
        Settings(prefix="shop-", name="hostile_tools"), [machine("shop-x", comment=HOSTILE)]
    )
    text = compiled.files["surface.json"]
    assert all(c not in text for c in "\u202e\u2066\x00\x1b\x7f\u200b\ufeff\u2028\ud800")
    (tool,) = [t for t in json.loads(text)["tools"] if t["name"] == "x"]
    assert tool["description"].startswith(HOSTILE)


def test_no_unreadable_character_of_a_comment_reaches_any_generated_file() -> None:
    """A NUL in a Comment made git treat the generated README as binary, hiding its diff."""
    import json
    from dataclasses import replace

    from sfn_mcp.pipeline import compile_records
    from sfn_mcp.settings import Settings
    from tests.sources import machine

    comment = "Refunds \x00 an \x1b order \u202e backwards \u200b here"
    definition = {"Comment": comment, "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    refund = replace(machine("shop-refund", comment=comment), definition=json.dumps(definition))
    files = compile_records(Settings(prefix="shop-", name="shop_tools"), [refund]).files
    for path, text in files.items():
        assert not any(ch in text for ch in "\x00\x1b\u202e\u200b"), path
    assert "\\u0000" in files["README.md"] and "\\u202e" in files["README.md"]
