import pytest

from sfn_mcp.naming import (
    TOOL_NAME_RE,
    pascal_case,
    python_identifier,
    snake_case,
    title,
    tool_name,
)


@pytest.mark.parametrize(
    ("machine", "prefix", "expected"),
    [
        # the anchor's live examples, in our snake_case
        ("mcpdemo-OrderLookup", "mcpdemo-", "order_lookup"),
        ("mcpdemo-Fail.Job", "mcpdemo-", "fail_job"),
        ("mcpdemo-2fast", "mcpdemo-", "2fast"),
        ("other-machine", "mcpdemo-", "other_machine"),
        ("mcpdemo-OrderLookup", "", "mcpdemo_order_lookup"),
        ("ai-workflows-order-processing", "ai-workflows-", "order_processing"),
        ("ai-workflows-HTTPRequestHandler", "ai-workflows-", "http_request_handler"),
        ("größe-Prüfung", "", "grosse_prufung"),
        ("a--b__c", "", "a_b_c"),
    ],
)
def test_tool_names(machine: str, prefix: str, expected: str) -> None:
    assert tool_name(machine, prefix) == expected
    assert TOOL_NAME_RE.match(expected)


def test_machine_named_like_the_prefix_has_no_tool_name() -> None:
    assert tool_name("mcpdemo-", "mcpdemo-") == ""
    assert tool_name("mcpdemo-__", "mcpdemo-") == ""


def test_long_names_are_cut_to_64_with_a_stable_distinguishing_hash() -> None:
    a = "x" * 70 + "-alpha"
    b = "x" * 70 + "-beta"
    name_a, name_b = tool_name(a, ""), tool_name(b, "")
    assert len(name_a) == 64 and len(name_b) == 64
    assert name_a != name_b
    assert TOOL_NAME_RE.match(name_a)
    assert tool_name(a, "") == name_a  # stable


def test_python_identifiers_avoid_keywords_builtins_digits_and_reserved_names() -> None:
    assert python_identifier("class") == "class_tool"
    assert python_identifier("list") == "list_tool"
    assert python_identifier("2fast") == "tool_2fast"
    assert python_identifier("run_workflow", frozenset({"run_workflow"})) == "run_workflow_tool"
    assert python_identifier("order_processing") == "order_processing"


def test_case_helpers() -> None:
    assert snake_case("OrderPlaced") == "order_placed"
    assert snake_case("com.example.shop@OrderPlaced") == "com_example_shop_order_placed"
    assert pascal_case("daily-etl request") == "DailyEtlRequest"
    assert pascal_case("OrderPlaced") == "OrderPlaced"
    assert pascal_case("3d model") == "M3dModel"


@pytest.mark.parametrize(
    ("tool", "comment", "expected"),
    [
        ("order_processing", "", "Order processing"),
        ("daily_etl", "Daily ETL: for one business date, …", "Daily ETL"),
        ("daily_etl", "Runs the daily ETL.", "Daily etl"),  # other words first: the tool name
        ("s3_sync", "S3 sync of the raw bucket", "S3 sync"),
    ],
)
def test_titles_take_the_comment_spelling_of_the_same_words(
    tool: str, comment: str, expected: str
) -> None:
    assert title(tool, comment) == expected
