import re
from dataclasses import replace

import pytest

from sfn_mcp import ir
from sfn_mcp.diagnostics import CompileError, Diagnostic, Diagnostics
from sfn_mcp.read.records import MachineSource
from sfn_mcp.settings import Settings, WorkflowSettings
from tests.sources import ORDER_PLACED, SHIPMENT, build_ir, example_machines, machine, schema

SETTINGS = Settings(prefix="shop-", name="shop_tools")


def test_tools_are_named_sorted_and_typed() -> None:
    package, warnings = build_ir(SETTINGS, list(reversed(example_machines())))
    assert warnings == []
    assert [t.name for t in package.tools] == ["free", "order_placed", "ship"]
    free, order, ship = package.tools
    assert (order.input.model_class, order.input.module, order.input.mode) == (
        "OrderPlaced",
        "order_placed",
        "envelope",
    )
    assert (order.input.event_source, order.input.event_detail_type) == (
        "com.example.shop",
        "OrderPlaced",
    )
    assert (ship.input.model_class, ship.input.mode, ship.workflow_type) == (
        "Shipment",
        "plain",
        "EXPRESS",
    )
    assert (free.input.model_class, free.input.module, free.input.mode) == (
        "FreeFormInput",
        None,
        "free-form",
    )
    assert [m.module for m in package.modules] == ["order_placed", "shipment"]


def test_description_combines_comment_schema_description_and_type() -> None:
    package, _ = build_ir(SETTINGS, example_machines())
    order = next(t for t in package.tools if t.name == "order_placed")
    assert order.description.startswith("Processes an order.\n\nInput: A customer placed an order.")
    assert (
        "EventBridge event (source com.example.shop, detail-type OrderPlaced)" in order.description
    )
    assert (
        "STANDARD workflow shop-order-placed and waits for its result (up to 50 s"
        in order.description
    )
    ship = next(t for t in package.tools if t.name == "ship")
    assert ship.description.startswith("Runs the AWS Step Functions state machine shop-ship.")
    assert "EXPRESS workflow shop-ship synchronously" in ship.description
    free = next(t for t in package.tools if t.name == "free")
    assert "any JSON object" in free.description


def messages(diagnostics: list[Diagnostic], level: str = "warning") -> list[str]:
    return [d.message for d in diagnostics if d.level == level]


def test_colliding_names_stay_distinct_and_do_not_depend_on_the_listing_order() -> None:
    group = [
        machine("shop-quick-echo", kind="EXPRESS"),
        machine("shop-quick.echo"),
        machine("shop-Quick_Echo"),
    ]
    results = []
    for order in (group, list(reversed(group)), [group[1], group[0], group[2]]):
        package, warnings = build_ir(SETTINGS, order)
        results.append({t.machine_name: t.name for t in package.tools})
        assert len(messages(warnings)) == 1
        assert "all become 'quick_echo'; 'shop-Quick_Echo' keeps it" in messages(warnings)[0]
    assert results[0] == results[1] == results[2]
    names = results[0]
    assert names["shop-Quick_Echo"] == "quick_echo"
    assert len(set(names.values())) == 3
    assert all(
        re.fullmatch(r"quick_echo_[0-9a-f]{8}", n)
        for m, n in names.items()
        if m != "shop-Quick_Echo"
    )


def test_the_tool_that_had_the_name_keeps_it_when_another_machine_collides() -> None:
    old, new = machine("shop-quick.echo"), machine("shop-Quick_Echo")
    diagnostics = Diagnostics()
    previous = {old.arn: "quick_echo"}
    package = ir.build(SETTINGS, [old, new], {}, diagnostics, previous=previous)
    names = {t.machine_name: t.name for t in package.tools}
    assert names["shop-quick.echo"] == "quick_echo"
    assert names["shop-Quick_Echo"].startswith("quick_echo_")


def test_long_and_non_ascii_names_are_valid_and_distinct() -> None:
    long_a = "shop-" + "a" * 70 + "-one"
    long_b = "shop-" + "a" * 70 + "-two"
    package, _ = build_ir(SETTINGS, [machine(long_a), machine(long_b), machine("shop-prüfen")])
    names = {t.machine_name: t.name for t in package.tools}
    assert names["shop-prüfen"] == "prufen"
    assert names[long_a] != names[long_b]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n) for n in names.values())


def test_a_machine_with_nothing_left_for_a_name_gets_a_hashed_one() -> None:
    package, warnings = build_ir(SETTINGS, [machine("shop-"), machine("shop-注文")])
    names = sorted(t.name for t in package.tools)
    assert len(names) == 2 and all(re.fullmatch(r"workflow_[0-9a-f]{8}", n) for n in names)
    assert len(messages(warnings)) == 2


def test_explicit_names_that_collide_are_an_error_naming_both() -> None:
    settings = Settings(prefix="shop-", workflows={"shop-a": WorkflowSettings(tool_name="orders")})
    tagged = _tagged("shop-b", {"mcp:tool-name": "orders"})
    with pytest.raises(CompileError) as raised:
        build_ir(settings, [machine("shop-a"), tagged])
    assert "'shop-a' (tool-name) and 'shop-b' (mcp:tool-name) are both given the tool name" in (
        raised.value.render()
    )


def test_an_explicit_name_wins_over_a_derived_one() -> None:
    tagged = _tagged("shop-b", {"mcp:tool-name": "a"})
    package, warnings = build_ir(SETTINGS, [machine("shop-a"), tagged])
    names = {t.machine_name: t.name for t in package.tools}
    assert names["shop-b"] == "a" and names["shop-a"].startswith("a_")
    assert "the name of another tool" in messages(warnings)[0]


def test_same_schema_name_in_two_registries_gets_two_modules() -> None:
    a = schema("Order", SHIPMENT | {"title": "Order"}, kind="JSONSchemaDraft4", registry="east")
    b = schema("Order", SHIPMENT | {"title": "Order"}, kind="JSONSchemaDraft4", registry="west")
    package, _ = build_ir(SETTINGS, [machine("shop-a", source=a), machine("shop-b", source=b)])
    assert sorted(m.module for m in package.modules) == ["east_order", "west_order"]
    assert {t.input.module for t in package.tools} == {"east_order", "west_order"}


def test_machines_sharing_a_schema_share_one_module() -> None:
    s = schema("Shipment", SHIPMENT, kind="JSONSchemaDraft4")
    package, _ = build_ir(SETTINGS, [machine("shop-a", source=s), machine("shop-b", source=s)])
    assert [m.module for m in package.modules] == ["shipment"]


def test_input_mode_overrides() -> None:
    order = schema("com.example.shop@OrderPlaced", ORDER_PLACED)
    settings = Settings(
        prefix="shop-",
        workflows={"shop-order": WorkflowSettings(input_mode="detail", max_wait_seconds=7)},
    )
    package, _ = build_ir(settings, [machine("shop-order", source=order)])
    assert package.tools[0].input.mode == "detail"
    assert package.tools[0].max_wait_seconds == 7

    plain = schema("Shipment", SHIPMENT, kind="JSONSchemaDraft4")
    bad = Settings(prefix="shop-", workflows={"shop-s": WorkflowSettings(input_mode="envelope")})
    package, warnings = build_ir(bad, [machine("shop-s", source=plain)])
    assert package.tools[0].input.mode == "plain"
    assert "applies to EventBridge event schemas" in messages(warnings)[0]


def test_overrides_for_unselected_machines_are_reported() -> None:
    settings = Settings(prefix="shop-", workflows={"shop-gone": WorkflowSettings()})
    _, warnings = build_ir(settings, [machine("shop-here")])
    assert [(w.level, w.message) for w in warnings] == [
        (
            "warning",
            "[tool.sfn-mcp.workflows] names 'shop-gone', which is not among the selected state "
            "machines",
        )
    ]


def test_an_unusable_schema_gives_an_untyped_tool_and_a_warning_naming_both() -> None:
    broken = schema(
        "Broken", {"type": "object", "properties": {"a": {"$ref": "#/nope"}}}, "JSONSchemaDraft4"
    )
    package, warnings = build_ir(SETTINGS, [machine("shop-x", source=broken)])
    (tool,) = package.tools
    assert tool.input.mode == "free-form" and tool.input.untyped_reason == "unusable schema"
    assert tool.schema is None and package.modules == ()
    assert "its input schema could not be used" in tool.description
    (warning,) = messages(warnings)
    assert (
        "schema shop/Broken v1" in warning and "(input of shop-x); the tool is untyped" in warning
    )
    with pytest.raises(CompileError, match="schema shop/Broken v1"):
        build_ir(Settings(prefix="shop-", strict=True), [machine("shop-x", source=broken)])


def test_suffixed_function_names_never_meet() -> None:
    package, _ = build_ir(SETTINGS, [machine("shop-list"), machine("shop-list-tool")])
    functions = {t.name: t.function for t in package.tools}
    assert functions["list_tool"] == "list_tool"
    assert functions["list"].startswith("list_tool_") and len(set(functions.values())) == 2


def test_module_names_never_meet_across_levels() -> None:
    schemas = [
        schema("foo_bar", SHIPMENT, kind="JSONSchemaDraft4", registry="r"),
        schema("bar", SHIPMENT, kind="JSONSchemaDraft4", registry="foo"),
        schema("bar", SHIPMENT, kind="JSONSchemaDraft4", registry="z"),
    ]
    machines = [machine(f"shop-{i}", source=s) for i, s in enumerate(schemas)]
    package, _ = build_ir(SETTINGS, machines)
    modules = [m.module for m in package.modules]
    assert len(set(modules)) == 3, modules


def test_a_tool_name_override_resolves_a_collision() -> None:
    settings = Settings(
        prefix="shop-", workflows={"shop-quick.echo": WorkflowSettings(tool_name="quick_echo_std")}
    )
    machines = [machine("shop-quick-echo", kind="EXPRESS"), machine("shop-quick.echo")]
    package, _ = build_ir(settings, machines)
    assert {t.name: t.machine_name for t in package.tools} == {
        "quick_echo": "shop-quick-echo",
        "quick_echo_std": "shop-quick.echo",
    }


def _tagged(name: str, tags: dict[str, str], kind: str = "STANDARD") -> MachineSource:
    return MachineSource(**{**machine(name, kind=kind).__dict__, "tags": tags})


def test_annotations_come_from_config_over_tags_over_defaults() -> None:
    machines = [
        _tagged("shop-report", {"mcp:read-only": "true", "mcp:title": "Sales report"}),
        _tagged("shop-refund", {"mcp:destructive": "false", "mcp:idempotent": "TRUE"}),
        _tagged("shop-plain", {}),
    ]
    settings = Settings(
        prefix="shop-",
        name="shop_tools",
        workflows={"shop-refund": WorkflowSettings(destructive=True, title="Refund an order")},
    )
    package, _ = build_ir(settings, machines)
    tools = {t.name: t for t in package.tools}
    assert tools["report"].title == "Sales report"
    # tags first; what they leave open, the (trivial) definition decides: no service is called
    assert tools["report"].hints == ir.Hints(read_only=True, destructive=False, open_world=False)
    assert tools["refund"].title == "Refund an order"
    assert tools["refund"].hints == ir.Hints(
        read_only=True, destructive=True, idempotent=True, open_world=False
    )
    # nothing said: the definition decides (no task calls a service), idempotent stays cautious
    assert tools["plain"].hints == ir.Hints(read_only=True, destructive=False, open_world=False)
    assert [r.split(":")[0] for r in tools["plain"].hint_reasons] == [
        "readOnlyHint=true",
        "destructiveHint=false",
        "openWorldHint=false",
    ]
    assert tools["refund"].hint_reasons[0].startswith("readOnlyHint=")  # only what tags left
    assert tools["plain"].title == "Plain"


@pytest.mark.parametrize(
    ("machine_source", "override", "message"),
    [
        (_tagged("shop-x", {"mcp:read-only": "maybe"}), WorkflowSettings(),
         "tag mcp:read-only='maybe' must be true or false; the hint is ignored"),
        (machine("shop-x", kind="EXPRESS"), WorkflowSettings(stop_on_cancel=True),
         "is an EXPRESS workflow"),
        (machine("shop-x"), WorkflowSettings(output_schema_version="2"),
         "has no schema tag (no tag key is configured) to pin"),
        (_tagged("shop-x", {"mcp:readonly": "true"}), WorkflowSettings(),
         "tag 'mcp:readonly' is not one sfn-mcp reads; did you mean 'mcp:read-only'?"),
        (_tagged("shop-x", {"mcp:read-only": "true", "readOnlyHint": "false"}), WorkflowSettings(),
         "disagree; the hint is ignored"),
        (_tagged("shop-x", {"mcp:tool-name": "Not A Name"}), WorkflowSettings(),
         "is not a tool name"),
    ],
    ids=["bad-tag", "express-stop-on-cancel", "pin-without-tag", "misspelt-tag", "disagreeing",
         "bad-tool-name-tag"],
)  # fmt: skip
def test_overrides_and_tags_that_cannot_apply_are_warnings_naming_the_machine(
    machine_source: MachineSource, override: WorkflowSettings, message: str
) -> None:
    settings = Settings(prefix="shop-", name="t", workflows={"shop-x": override})
    package, warnings = build_ir(settings, [machine_source])
    assert [t.machine_name for t in package.tools] == ["shop-x"]
    (warning,) = messages(warnings)
    assert "shop-x" in warning and message in warning
    with pytest.raises(CompileError, match="shop-x"):
        build_ir(replace(settings, strict=True), [machine_source])


def test_tags_in_the_mcp_spelling_and_any_case_set_name_description_and_hints() -> None:
    tags = {
        "mcp:readOnlyHint": "TRUE",
        "openWorldHint": "False",
        "mcp:tool-name": "sales_report",
        "mcp:description": "Reports the sales of a day.",
        "team": "data",
        "aws:cloudformation:stack-name": "x",
    }
    package, warnings = build_ir(SETTINGS, [_tagged("shop-report", tags)])
    (tool,) = package.tools
    assert tool.name == "sales_report"
    assert tool.description.startswith("Reports the sales of a day.")
    assert tool.hints == ir.Hints(read_only=True, destructive=False, open_world=False)
    assert warnings == []


def test_reserved_names_are_kept_free() -> None:
    package, warnings = build_ir(
        Settings(prefix="shop-", name="t"), [machine("shop-get-execution")]
    )
    assert package.tools[0].name.startswith("get_execution_")
    with pytest.raises(CompileError, match="the server.s own tools"):
        settings = Settings(
            prefix="shop-", workflows={"shop-x": WorkflowSettings(tool_name="get_execution")}
        )
        build_ir(settings, [machine("shop-x")])
    taken = schema("T", {"type": "object", "title": "T",
                         "properties": {"idempotency_key": {"type": "string"}}},
                   kind="JSONSchemaDraft4")  # fmt: skip
    with pytest.raises(CompileError, match="reserve for the idempotency key"):
        build_ir(Settings(prefix="shop-", name="t"), [machine("shop-x", source=taken)])
