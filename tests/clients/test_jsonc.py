"""``sfn_mcp.clients.jsonc``: JSON with comments, parsed and edited as text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_mcp.clients.jsonc import (
    CommentsInside,
    Document,
    DuplicateKey,
    EditMismatch,
    JsoncSyntaxError,
    NotAnObject,
    dump,
    newline_of,
    parse,
    set_member,
    strip_jsonc,
)


def edit(text: str, path: list[str], value: Any, *, comments: bool = True) -> str:
    return set_member(parse(text, comments=comments), path, value)


# --- strip_jsonc and parse ---------------------------------------------------------------------


def test_strip_blanks_comments_and_trailing_commas_in_place() -> None:
    text = (
        "{\r\n"
        "  // line comment\r\n"
        '  "a": [1, 2,], /* block\r\n'
        "  comment */\r\n"
        '  "b": {"c": 3,},\r\n'
        "}\r\n"
    )
    stripped, changed = strip_jsonc(text)
    assert changed
    assert len(stripped) == len(text)
    assert [i for i, c in enumerate(stripped) if c in "\r\n"] == [
        i for i, c in enumerate(text) if c in "\r\n"
    ]
    assert json.loads(stripped) == {"a": [1, 2], "b": {"c": 3}}
    # Only comment characters and the trailing commas became spaces.
    assert [i for i, (a, b) in enumerate(zip(text, stripped, strict=True)) if a != b] == [
        i for i, (a, b) in enumerate(zip(text, stripped, strict=True)) if b == " " and a != " "
    ]


def test_strip_leaves_strings_with_comment_markers_alone() -> None:
    text = '{"url": "http://x/*y*/", "s": "\\"//", "t": "a,]"}'
    assert strip_jsonc(text) == (text, False)
    text = '{"url": "http://x", // c\n "s": "\\"/*",}'
    stripped, changed = strip_jsonc(text)
    assert changed
    assert json.loads(stripped) == {"url": "http://x", "s": '"/*'}


def test_strip_keeps_an_unterminated_block_comment_for_the_parser() -> None:
    text = '{"a": 1 /* never closed\n}'
    stripped, _ = strip_jsonc(text)
    assert stripped.endswith("/* never closed\n}")
    with pytest.raises(JsoncSyntaxError):
        parse(text, comments=True)


def test_parse_strict_json() -> None:
    doc = parse('{"a": [1]}', comments=False)
    assert doc == Document('{"a": [1]}', {"a": [1]}, '{"a": [1]}', False)


def test_parse_with_comments() -> None:
    text = '{\n  // c\n  "a": 1,\n}\n'
    doc = parse(text, comments=True)
    assert doc.data == {"a": 1}
    assert doc.commented
    assert doc.text == text and doc.stripped == strip_jsonc(text)[0]


def test_comments_where_not_allowed_are_reported_at_the_strict_position() -> None:
    with pytest.raises(JsoncSyntaxError) as caught:
        parse('{\n  // c\n  "a": 1\n}\n', comments=False)
    assert caught.value.valid_jsonc
    assert (caught.value.lineno, caught.value.colno) == (2, 3)
    assert "line 2 column 3" in str(caught.value)


@pytest.mark.parametrize("comments", [False, True])
def test_invalid_input_is_a_clear_error(comments: bool) -> None:
    with pytest.raises(JsoncSyntaxError) as caught:
        parse('{\n  "a": {"b": 1} "c": 2\n}\n', comments=comments)
    assert not caught.value.valid_jsonc
    assert caught.value.lineno == 2
    assert caught.value.msg.startswith("Expecting")


def test_invalid_jsonc_is_reported_where_the_comment_free_text_fails() -> None:
    text = '{\n  // c\n  "a": 1\n  "b": 2\n}'
    with pytest.raises(JsoncSyntaxError) as caught:
        parse(text, comments=True)
    assert (caught.value.lineno, caught.value.valid_jsonc) == (4, False)
    with pytest.raises(JsoncSyntaxError) as caught:
        parse(text, comments=False)  # the first error is the comment
    assert (caught.value.lineno, caught.value.valid_jsonc) == (2, False)


# --- dump -----------------------------------------------------------------------------------------


def test_dump_layout() -> None:
    value = {"command": "/py", "args": ["-m", "x"], "env": {"K": "é"}, "none": {}}
    assert dump(value) == (
        '{\n  "command": "/py",\n  "args": ["-m", "x"],\n  "env": {\n    "K": "é"\n  },\n'
        '  "none": {}\n}'
    )
    assert dump(value, None) == json.dumps(value, ensure_ascii=False)
    assert dump([{"a": 1}], "  ", "\t") == '[\n  \t{\n  \t\t"a": 1\n  \t}\n  ]'
    assert dump("s", "    ") == '"s"'


def test_newline_of() -> None:
    assert newline_of("{\n}") == "\n"
    assert newline_of("{\r\n}") == "\r\n"
    assert newline_of("{}") == "\n"


# --- set_member ---------------------------------------------------------------------------------


def test_a_replaced_member_changes_only_its_value() -> None:
    text = '{\n  // first\n  "a": {"x": 1},  /* after a */\n  "b": 2 // last\n}\n'
    new = edit(text, ["a"], {"y": ["p", "q"], "z": {}})
    assert new == (
        "{\n"
        "  // first\n"
        '  "a": {\n'
        '    "y": ["p", "q"],\n'
        '    "z": {}\n'
        "  },  /* after a */\n"
        '  "b": 2 // last\n'
        "}\n"
    )


def test_a_nested_member_is_inserted_after_the_last_one_with_the_files_indentation() -> None:
    text = '{\n    "a": 1,\n    "b": {\n        "c": 2\n    },\n    "z": 0\n}\n'
    new = edit(text, ["b", "d"], {"x": [1, 2]}, comments=False)
    assert new == (
        '{\n    "a": 1,\n    "b": {\n        "c": 2,\n'
        '        "d": {\n            "x": [1, 2]\n        }\n'
        '    },\n    "z": 0\n}\n'
    )


def test_tabs_are_followed() -> None:
    assert edit('{\n\t"a": 1\n}', ["b"], {"c": 1}) == '{\n\t"a": 1,\n\t"b": {\n\t\t"c": 1\n\t}\n}'


@pytest.mark.parametrize(
    ("text", "path", "new"),
    [
        ("{}", ["k"], '{\n  "k": {\n    "x": 1\n  }\n}'),
        ('{\n  "a": {}\n}', ["a", "k"], '{\n  "a": {\n    "k": {\n      "x": 1\n    }\n  }\n}'),
        (
            '{\n  "a": { /* none yet */ }\n}',
            ["a", "k"],
            '{\n  "a": { /* none yet */\n    "k": {\n      "x": 1\n    }\n  }\n}',
        ),
    ],
)
def test_a_key_inserted_into_an_empty_object(text: str, path: list[str], new: str) -> None:
    assert edit(text, path, {"x": 1}) == new


def test_missing_objects_on_the_path_are_created() -> None:
    assert edit('{\n  "a": 1\n}', ["b", "c"], 1) == '{\n  "a": 1,\n  "b": {\n    "c": 1\n  }\n}'


@pytest.mark.parametrize(
    ("last", "after"),
    [
        ('"a": 1', '"a": 1,'),
        ('"a": 1,', '"a": 1,'),  # a trailing comma stays where it is
        ('"a": 1, // one', '"a": 1, // one'),
        ('"a": 1 // one', '"a": 1, // one'),
        ('"a": 1 /* one */', '"a": 1, /* one */'),
        ('"a": 1 /* one */,', '"a": 1 /* one */,'),
    ],
)
def test_the_last_lines_comma_and_comment_stay_with_it(last: str, after: str) -> None:
    assert edit(f"{{\n  {last}\n}}\n", ["k"], True) == f'{{\n  {after}\n  "k": true\n}}\n'


def test_a_one_line_object_stays_on_one_line() -> None:
    assert edit('{"a": 1}', ["k"], {"x": [1]}) == '{"a": 1, "k": {"x": [1]}}'
    assert edit('{"a": 1, "s": {"b": {}}}', ["s", "k"], {"x": 1}) == (
        '{"a": 1, "s": {"b": {}, "k": {"x": 1}}}'
    )


def test_strings_with_comment_markers_are_not_comments() -> None:
    text = '{\n  "a": "http://x/*y",\n  "b": "//"\n}'
    new = edit(text, ["k"], "/* v */")
    assert new == '{\n  "a": "http://x/*y",\n  "b": "//",\n  "k": "/* v */"\n}'
    assert json.loads(new) == {"a": "http://x/*y", "b": "//", "k": "/* v */"}
    new = edit(text, ["a"], "//")
    assert new == '{\n  "a": "//",\n  "b": "//"\n}'


def test_crlf_files_keep_crlf() -> None:
    text = '{\r\n  "a": {\r\n    "x": 1\r\n  }\r\n}\r\n'
    assert edit(text, ["b"], {"y": 2}) == (
        '{\r\n  "a": {\r\n    "x": 1\r\n  },\r\n  "b": {\r\n    "y": 2\r\n  }\r\n}\r\n'
    )
    assert edit(text, ["a"], {"y": 2}) == '{\r\n  "a": {\r\n    "y": 2\r\n  }\r\n}\r\n'


CRLF_MEMBER = '    "k": {\r\n      "x": 1\r\n    }\r\n  }\r\n}\r\n'


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # The comment after the last member ends at its \r\n: the new member goes after it.
        (
            '{\r\n  "s": {\r\n    "a": 1 // web\r\n  }\r\n}\r\n',
            '{\r\n  "s": {\r\n    "a": 1, // web\r\n' + CRLF_MEMBER,
        ),
        # An empty object's comments are kept with their own \r\n.
        (
            '{\r\n  "s": {\r\n    // none yet\r\n  }\r\n}\r\n',
            '{\r\n  "s": {\r\n    // none yet\r\n' + CRLF_MEMBER,
        ),
    ],
)
def test_crlf_files_with_comments_keep_crlf(text: str, new: str) -> None:
    # Regression: both used to gain a stray \r (and the first a bare \n).
    assert edit(text, ["s", "k"], {"x": 1}) == new


def test_a_key_present_twice_on_the_path_is_refused() -> None:
    with pytest.raises(DuplicateKey) as caught:
        edit('{"s": {"k": 1, "k": 2}}', ["s", "k"], 3)
    assert (caught.value.key, caught.value.count) == ("k", 2)
    # Duplicates elsewhere are none of set_member's business.
    assert edit('{"z": 1, "z": 2}', ["a"], 1) == '{"z": 1, "z": 2, "a": 1}'


def test_a_value_with_comments_inside_is_not_replaced() -> None:
    text = '{\n  "a": {\n    // keep\n    "x": 1\n  }\n}'
    with pytest.raises(CommentsInside) as caught:
        edit(text, ["a"], 2)
    assert caught.value.key == "a"
    with pytest.raises(CommentsInside):
        edit('{\n  "a": [1,]\n}', ["a"], 2)  # a trailing comma would be lost as well
    assert edit(text, ["a", "x"], 2) == '{\n  "a": {\n    // keep\n    "x": 2\n  }\n}'


@pytest.mark.parametrize(
    ("text", "path", "key"),
    [("[1]", ["a"], None), ('{"a": 1}', ["a", "b"], "a"), ('{"a": [{}]}', ["a", "b"], "a")],
)
def test_a_path_through_something_else_than_an_object(
    text: str, path: list[str], key: str | None
) -> None:
    with pytest.raises(NotAnObject) as caught:
        edit(text, path, 1)
    assert caught.value.key == key


def test_the_edit_is_checked_against_the_intended_document() -> None:
    doc = Document('{"a": 1}', {"a": 2}, '{"a": 1}', False)  # text and data disagree
    with pytest.raises(EditMismatch) as caught:
        set_member(doc, ["b"], 3)
    assert caught.value.expected == {"a": 2, "b": 3}


def test_an_empty_path_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        edit("{}", [], 1)
