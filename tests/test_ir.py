import pytest

from sfn_mcp import ir
from sfn_mcp.diagnostics import CompileError
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


def test_two_machines_with_one_tool_name_is_an_error_naming_both() -> None:
    machines = [machine("shop-quick-echo", kind="EXPRESS"), machine("shop-quick.echo")]
    with pytest.raises(CompileError) as raised:
        build_ir(SETTINGS, machines)
    text = raised.value.render()
    assert "'shop-quick-echo' and 'shop-quick.echo' both become tool 'quick_echo'" in text
    assert "hint:" in text


def test_machine_named_exactly_like_the_prefix_is_an_error() -> None:
    with pytest.raises(CompileError, match="leaves no usable tool name"):
        build_ir(SETTINGS, [machine("shop-")])


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
    with pytest.raises(CompileError, match="applies to EventBridge event schemas"):
        build_ir(bad, [machine("shop-s", source=plain)])


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


def test_model_errors_name_schema_and_machine() -> None:
    broken = schema(
        "Broken", {"type": "object", "properties": {"a": {"$ref": "#/nope"}}}, "JSONSchemaDraft4"
    )
    with pytest.raises(CompileError) as raised:
        build_ir(SETTINGS, [machine("shop-x", source=broken)])
    assert "schema shop/Broken v1" in raised.value.render()
    assert "(input of shop-x)" in raised.value.render()


def test_suffixed_function_names_that_meet_are_an_error() -> None:
    with pytest.raises(CompileError) as raised:
        build_ir(SETTINGS, [machine("shop-list"), machine("shop-list-tool")])
    assert "'shop-list' and 'shop-list-tool' would share the Python function 'list_tool'" in (
        raised.value.render()
    )


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
    assert tools["report"].hints == ir.Hints(read_only=True, destructive=False)
    assert tools["refund"].title == "Refund an order"
    assert tools["refund"].hints == ir.Hints(destructive=True, idempotent=True)
    assert tools["plain"].hints == ir.Hints()  # cautious defaults
    assert tools["plain"].title == "Plain"


@pytest.mark.parametrize(
    ("machine_source", "override", "message"),
    [
        (_tagged("shop-x", {"mcp:read-only": "maybe"}), WorkflowSettings(),
         "tag mcp:read-only='maybe' must be true or false"),
        (machine("shop-x", kind="EXPRESS"), WorkflowSettings(stop_on_cancel=True),
         "is an EXPRESS workflow"),
        (machine("shop-x"), WorkflowSettings(output_schema_version="2"),
         "has no output schema tag to pin"),
    ],
    ids=["bad-tag", "express-stop-on-cancel", "pin-without-tag"],
)  # fmt: skip
def test_bad_overrides_and_tags_name_the_machine(
    machine_source: MachineSource, override: WorkflowSettings, message: str
) -> None:
    settings = Settings(prefix="shop-", name="t", workflows={"shop-x": override})
    with pytest.raises(CompileError, match="shop-x") as raised:
        build_ir(settings, [machine_source])
    assert message in str(raised.value)


def test_reserved_names_are_compile_errors() -> None:
    with pytest.raises(CompileError, match="execution-status tool"):
        build_ir(Settings(prefix="shop-", name="t"), [machine("shop-get-execution")])
    taken = schema("T", {"type": "object", "title": "T",
                         "properties": {"idempotency_key": {"type": "string"}}},
                   kind="JSONSchemaDraft4")  # fmt: skip
    with pytest.raises(CompileError, match="reserve for the idempotency key"):
        build_ir(Settings(prefix="shop-", name="t"), [machine("shop-x", source=taken)])
