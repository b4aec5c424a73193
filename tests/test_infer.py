"""The infer room: input schemas and annotation hints inferred from state machine definitions.

``tests/infer/cases/<case>/`` holds one definition each (``definition.asl.json``), the schema
written by hand from what the workflow reads (``expected-schema.json``, ``null`` when nothing is
inferred), the notes (``expected-notes.txt``; no file: no notes) and optionally the hints
(``expected-hints.json``, with ``machine-arn.txt`` when the machine's ARN matters). Each is
compared exactly. The rest are unit tests of the readers, the route graph and the hints table,
determinism across hash seeds, a generated 200-state definition and the repository's examples.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sfn_mcp.infer import INTEGRATIONS, infer_hints, infer_input
from sfn_mcp.infer.facts import Read, Recorder, Sink
from sfn_mcp.infer.graph import build_graph, required_paths
from sfn_mcp.infer.hints import integration_for, reduce_resource
from sfn_mcp.infer.intrinsics import (
    Call,
    IntrinsicError,
    Literal,
    PathArg,
    parse_intrinsic,
    tokenize,
)
from sfn_mcp.infer.jsonata_expr import NataEnv, NataError, eval_jsonata, parse_jsonata
from sfn_mcp.infer.refs import PathEnv, RefError, parse_ref, read_ref
from sfn_mcp.infer.values import (
    ITEM,
    SOME,
    UNKNOWN,
    constructed,
    display,
    from_input,
    get,
    input_paths,
    put,
)
from sfn_mcp.infer.values import Path as InputPath
from tests.sources import example_records

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(p for p in (Path(__file__).parent / "infer" / "cases").iterdir() if p.is_dir())
EXAMPLES = sorted((ROOT / "examples").glob("*/definition.asl.json"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- the corpus -------------------------------------------------------------------------------


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 20


def _infer_case(case: Path) -> Any:
    samples = case / "samples.json"
    given = json.loads(_read(samples)) if samples.exists() else []
    return infer_input(_read(case / "definition.asl.json"), given)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_schema_is_exactly_the_hand_written_one(case: Path) -> None:
    inference = _infer_case(case)
    expected = json.loads(_read(case / "expected-schema.json"))
    assert inference.schema == expected
    assert inference.inferred is (expected is not None)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_notes_are_exactly_the_expected_ones(case: Path) -> None:
    inference = _infer_case(case)
    notes = case / "expected-notes.txt"
    assert inference.notes_text() == (_read(notes) if notes.exists() else "")


@pytest.mark.parametrize(
    "case", [c for c in CASES if (c / "expected-hints.json").exists()], ids=lambda c: c.name
)
def test_case_hints_are_exactly_the_expected_ones(case: Path) -> None:
    arn_file = case / "machine-arn.txt"
    arn = _read(arn_file).strip() if arn_file.exists() else None
    hints = infer_hints(_read(case / "definition.asl.json"), arn)
    assert hints.to_json() == json.loads(_read(case / "expected-hints.json"))


def _objects(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            found.append(schema)
        for value in schema.values():
            found.extend(_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_objects(value))
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_inferred_schemas_are_valid_and_stay_open(case: Path) -> None:
    schema = _infer_case(case).schema
    if schema is None:
        return
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert all(o.get("additionalProperties") is True for o in _objects(schema))
    # fields the definition never reads are accepted, whatever they hold
    minimal = {name: _anything(schema["properties"][name]) for name in schema.get("required", [])}
    jsonschema.validate({**minimal, "somethingElse": {"nested": [1, "x"]}}, schema)


def _anything(schema: dict[str, Any]) -> Any:
    """A value the field's schema accepts: what the workflow at least has to be given."""
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        return {n: _anything(schema["properties"][n]) for n in schema.get("required", [])}
    if kind == "array":
        return []
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return {"string": "x", "number": 1.5, "integer": 2, "boolean": True}.get(str(kind), "any")


# -- determinism and speed --------------------------------------------------------------------

_DUMP = """
import json, sys
from pathlib import Path
from sfn_mcp.infer import infer_hints, infer_input
out = []
for path in sys.argv[1:]:
    text = Path(path).read_text(encoding="utf-8")
    inference = infer_input(text)
    out.append(inference.schema_json() + inference.notes_text())
    out.append(json.dumps(infer_hints(text).to_json(), sort_keys=True))
sys.stdout.write("\\n".join(out))
"""


def test_output_is_byte_identical_across_hash_seeds() -> None:
    paths = [str(c / "definition.asl.json") for c in CASES] + [str(p) for p in EXAMPLES]
    outputs = set()
    for seed in ("0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "compiler")}
        done = subprocess.run(
            [sys.executable, "-c", _DUMP, *paths],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_the_same_definition_gives_the_same_bytes_twice() -> None:
    text = _read(ROOT / "examples" / "order-processing" / "definition.asl.json")
    assert infer_input(text).schema_json() == infer_input(text).schema_json()


def generated_definition(states: int = 200) -> tuple[str, dict[str, Any]]:
    """A chain of ``states`` states: every tenth a Choice (a rule, then a side Task that joins
    back), the others Tasks reading ``$.order.f<i>`` (required) and, every third, a JSONata
    Pass reading ``$states.input.order.n<i>`` as a number. The expected schema follows from
    the same rule, written out here, not taken from the inference."""
    names = [f"S{i:03d}" for i in range(states)]
    body: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    required: list[str] = []
    i = 0
    while i < states:
        name = names[i]
        after = names[i + 1] if i + 1 < states else None
        if i % 10 == 9 and after is not None and i + 2 < states:
            # Choice → (rule) side state reading an optional field → joins at `after`
            side_name = names[i + 1]
            join_name = names[i + 2]
            body[name] = {
                "Type": "Choice",
                "Choices": [
                    {"Variable": f"$.order.flag{i}", "BooleanEquals": True, "Next": side_name}
                ],
                "Default": join_name,
            }
            body[side_name] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": "t", "Key": {"k": {"S.$": f"$.order.opt{i}"}}},
                "ResultPath": f"$.side{i}",
                "Next": join_name,
            }
            fields[f"flag{i}"] = {
                "type": "boolean",
                "description": f"Read by state `{name}`; compared with true.",
            }
            required.append(f"flag{i}")
            fields[f"opt{i}"] = {"description": f"Read by state `{side_name}`."}
            i += 2
            continue
        if i % 3 == 1:
            body[name] = {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Assign": {f"v{i}": f"{{% $states.input.order.n{i} * 2 %}}"},
            }
            fields[f"n{i}"] = {"type": "number", "description": f"Read by state `{name}`."}
        else:
            body[name] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": "t", "Key": {"k": {"S.$": f"$.order.f{i}"}}},
                "ResultPath": f"$.r{i}",
            }
            fields[f"f{i}"] = {"description": f"Read by state `{name}`."}
        required.append(f"n{i}" if i % 3 == 1 else f"f{i}")
        if after is None:
            body[name]["End"] = True
        else:
            body[name]["Next"] = after
        i += 1
    readers = [n for n in names if n in body]  # every state reads a field of `order`
    shown = ", ".join(f"`{n}`" for n in readers[:3])
    expected = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": (
            "Inferred from the state machine's definition: the fields below are the ones its "
            "states read; other fields are allowed."
        ),
        "properties": {
            "order": {
                "type": "object",
                "description": f"Read by states {shown} and {len(readers) - 3} more.",
                "properties": dict(sorted(fields.items())),
                "required": sorted(required),
                "additionalProperties": True,
            }
        },
        "required": ["order"],
        "additionalProperties": True,
    }
    definition = {"Comment": "generated", "StartAt": names[0], "States": body}
    return json.dumps(definition), expected


def test_a_generated_200_state_definition_is_inferred_quickly() -> None:
    text, expected = generated_definition(200)
    assert len(json.loads(text)["States"]) == 200
    started = time.perf_counter()
    inference = infer_input(text)
    elapsed = time.perf_counter() - started
    print(f"\n200-state definition inferred in {elapsed * 1000:.0f} ms")
    assert inference.schema == expected
    assert inference.notes == ()
    assert elapsed < 5.0


# -- the repository's examples ----------------------------------------------------------------

SUPPORT_TRIAGE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": (
        "Inferred from the state machine's definition: the fields below are the ones its "
        "states read; other fields are allowed."
    ),
    "properties": {
        "body": {"description": "Read by state `ReadTicket`; converted to text."},
        "customerTier": {
            "type": "string",
            "description": (
                "Read by states `ReadTicket`, `Billing` and `RouteTicket`; compared with "
                "'gold', 'platinum', 'standard'."
            ),
        },
        "subject": {"description": "Read by state `ReadTicket`; converted to text."},
    },
    "additionalProperties": True,
}


def test_support_triage_comes_out_typed() -> None:
    inference = infer_input(_read(ROOT / "examples" / "support-triage" / "definition.asl.json"))
    assert inference.schema == SUPPORT_TRIAGE
    assert inference.notes == ()
    hints = infer_hints(_read(ROOT / "examples" / "support-triage" / "definition.asl.json"))
    assert hints.annotations() == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "openWorldHint": False,
    }


def test_the_other_examples() -> None:
    def infer(name: str) -> Any:
        return infer_input(_read(ROOT / "examples" / name / "definition.asl.json"))

    # document-analysis hands its whole input to a Lambda and reads nothing itself
    analysis = infer("document-analysis")
    assert analysis.schema is None
    assert [n.state for n in analysis.notes] == ["AnalyzeDocument"]
    # daily-etl iterates over `tables` and hands the whole input on
    etl = infer("daily-etl").schema
    assert etl is not None
    assert etl["required"] == ["tables"]
    assert etl["properties"]["tables"]["type"] == "array"
    assert "other fields may be needed" in etl["description"]
    # order-processing reads the EventBridge envelope: detail's fields on every route
    orders = infer("order-processing").schema
    assert orders is not None
    assert orders["required"] == ["detail"]
    assert orders["properties"]["detail"]["required"] == [
        "currency",
        "customer",
        "items",
        "orderId",
    ]
    assert orders["properties"]["detail"]["properties"]["items"]["type"] == "array"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_an_inferred_example_schema_accepts_what_its_published_schema_accepts(
    example: Path,
) -> None:
    """Where an example has a hand-made schema, the inferred one refuses none of the inputs
    that schema's own examples would give: required fields are a subset."""
    (record,) = [r for r in example_records() if r.name.endswith(example.parent.name)]
    inferred = infer_input(_read(example)).schema
    if record.schema is None or inferred is None:  # nothing to compare
        return
    document = json.loads(record.schema.content)
    if "openapi" in document:
        document = document["components"]["schemas"]["AWSEvent"]
    assert set(inferred.get("required", [])) <= set(document.get("required", []))


# -- sample inputs ----------------------------------------------------------------------------


def test_samples_give_shapes_never_values_and_never_required() -> None:
    case = Path(__file__).parent / "infer" / "cases" / "samples-merge"
    samples = json.loads(_read(case / "samples.json"))
    text = _infer_case(case).schema_json()
    for value in ("disk full", "typo", "email", "ops", "docs", "ann", "17", "18.5"):
        assert value not in text
    assert json.loads(text)["required"] == ["priority"]  # only what every route reads
    assert infer_input(_read(case / "definition.asl.json"), samples).schema_json() == text


def test_samples_that_disagree_with_the_definition_are_noted_and_the_definition_wins() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "D"}],
                "Default": "D",
            },
            "D": {"Type": "Succeed"},
        },
    }
    inference = infer_input(json.dumps(definition), [{"n": "one"}])
    assert inference.schema is not None
    assert inference.schema["properties"]["n"]["type"] == "number"
    assert inference.notes_text() == (
        "note: sample inputs show `$.n` as a string, but the definition reads it as a number: "
        "the definition's type is kept\n"
    )
    assert infer_input(json.dumps(definition), [[1, 2]]).notes[0].level == "warning"


# -- values -----------------------------------------------------------------------------------


def test_values_follow_fields_then_the_origin() -> None:
    state = put(from_input(), ["result"], UNKNOWN)
    assert get(state, ["result", "x"]) == UNKNOWN
    assert input_paths(get(state, ["order", "id"])) == [("order", "id")]
    built = constructed({"who": from_input(("customer",))})
    assert input_paths(get(built, ["who", "name"])) == [("customer", "name")]
    assert get(built, ["other"]) == UNKNOWN
    assert display(("detail", "instance-id", ITEM, "a b")) == "$.detail['instance-id'][]['a b']"


# -- JSONPath references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "root", "segments", "strict"),
    [
        ("$", "input", (), 0),
        ("$.a.b", "input", ("a", "b"), 2),
        ("$.detail['instance-id']", "input", ("detail", "instance-id"), 2),
        ("$['a b']", "input", ("a b",), 1),
        ("$['detail']['force-stop']", "input", ("detail", "force-stop"), 2),
        ("$.items[0].sku", "input", ("items", SOME, "sku"), 1),
        ("$.items[*].sku", "input", ("items", SOME, "sku"), 0),
        ("$.items[1:3]", "input", ("items", SOME), 0),
        ("$$.Execution.Input.x", "context", ("Execution", "Input", "x"), 3),
        ("$total", "variable", (), 0),
        ("$account.id", "variable", ("id",), 1),
    ],
)
def test_references_parse_into_segments(
    text: str, root: str, segments: tuple[object, ...], strict: int
) -> None:
    ref = parse_ref(text)
    assert (ref.root, ref.segments, ref.strict) == (root, segments, strict)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("$.名前.x", ("名前", "x")),
        ("$.détail['k']", ("détail", "k")),
        ("$.s3:bucket", ("s3:bucket",)),
        ("$.it's", ("it's",)),
        ('$.a."q"', ("a", "q")),
    ],
)
def test_names_jsonpath_ng_would_refuse_in_dot_notation_are_read_whole(
    text: str, segments: tuple[str, ...]
) -> None:
    assert parse_ref(text).segments == segments


def test_a_filter_reads_the_elements_fields() -> None:
    ref = parse_ref("$.items[?(@.price > 10)].sku")
    assert ref.segments == ("items", SOME, "sku")
    assert [(f.relative, f.kind, f.compared) for f in ref.filters] == [
        (("price",), "number", ("10",))
    ]


def test_a_descendant_search_is_not_followed() -> None:
    recorder = Recorder()
    sink = Sink(recorder, "S", ("S", "in"))
    env = PathEnv(from_input(), from_input(), None, {})
    assert read_ref(parse_ref("$.a..b"), env, sink) == UNKNOWN
    assert [r.path for r in recorder.reads] == [("a",)]
    assert "descendant" in recorder.notes[0].message


def test_bad_references_are_refused() -> None:
    for text in ("order.id", "$.a[", "$x y"):
        with pytest.raises(RefError):
            parse_ref(text)


def test_context_references_reach_only_the_execution_input_and_the_item() -> None:
    recorder = Recorder()
    sink = Sink(recorder, "S", ("S", "in"))
    env = PathEnv(UNKNOWN, from_input(), from_input(("rows", ITEM)), {})
    read_ref(parse_ref("$$.Execution.Input.a"), env, sink)
    read_ref(parse_ref("$$.Map.Item.Value.b"), env, sink)
    read_ref(parse_ref("$$.Execution.Id"), env, sink)
    read_ref(parse_ref("$.c"), env, sink)
    assert [r.path for r in recorder.reads] == [("a",), ("rows", ITEM, "b")]


# -- intrinsic functions ----------------------------------------------------------------------


def test_intrinsics_tokenize_with_escapes_and_bracketed_paths() -> None:
    tokens = tokenize("States.Format('it\\'s {} \\{x\\}', $.a['b,c'], $.d[0])")
    assert [t.kind for t in tokens] == ["name", "(", "string", ",", "path", ",", "path", ")"]
    assert tokens[2].value == "it's {} {x}"
    assert tokens[4].text == "$.a['b,c']"


def test_intrinsics_parse_nested_calls_and_literals() -> None:
    call = parse_intrinsic(
        "States.Format('{}-{}', States.MathAdd($.n, -1), States.ArrayGetItem($.xs, 0), true, null)"
    )
    assert call == Call(
        "States.Format",
        (
            Literal("{}-{}"),
            Call("States.MathAdd", (PathArg("$.n"), Literal(-1))),
            Call("States.ArrayGetItem", (PathArg("$.xs"), Literal(0))),
            Literal(True),
            Literal(None),
        ),
    )
    assert parse_intrinsic("States.UUID()") == Call("States.UUID", ())
    assert parse_intrinsic("States.Array($$.Execution.Input.x, $var.y)").args == (
        PathArg("$$.Execution.Input.x"),
        PathArg("$var.y"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "States.Format('x'",
        "States.Format('x)",
        "Format('x')",
        "States.Array($.a) extra",
        "States.X(,)",
    ],
)
def test_bad_intrinsics_are_refused(text: str) -> None:
    with pytest.raises(IntrinsicError):
        parse_intrinsic(text)


# -- JSONata ----------------------------------------------------------------------------------


def _nata(text: str, variables: dict[str, Any] | None = None) -> list[Read]:
    recorder = Recorder()
    env = NataEnv(from_input(), UNKNOWN, from_input(), None, variables or {})
    eval_jsonata(text, env, Sink(recorder, "S", ("S", "in")))
    return recorder.reads


def _typed(reads: list[Read]) -> dict[tuple[object, ...], set[object]]:
    out: dict[tuple[object, ...], set[object]] = {}
    for read in reads:
        out.setdefault(read.path, set())
        if read.kind:
            out[read.path].add(read.kind)
    return out


def _strict(reads: list[Read]) -> set[tuple[object, ...]]:
    return {r.path[: r.strict] for r in reads if r.strict}


def test_the_jsonata_parser_gives_a_tree() -> None:
    tree = parse_jsonata("$states.input.a.`b c` + 1")
    assert tree.type == "binary" and tree.value == "+"
    assert [s.value for s in tree.lhs.steps] == ["states", "input", "a", "b c"]
    with pytest.raises(NataError):
        parse_jsonata("$states.input.(")


def test_jsonata_types_come_from_operators_and_functions() -> None:
    reads = _nata(
        "{% $states.input.a + 1 & $uppercase($states.input.b) & ($states.input.c = true) "
        "& $count($states.input.d) & ($states.input.e in ['x', 'y']) %}"
    )
    typed = _typed(reads)
    assert typed[("a",)] == {"number"}
    assert typed[("b",)] == {"string"}
    assert typed[("c",)] == {"boolean"}
    assert typed[("d",)] == {"array"}
    assert typed[("e",)] == {"string"}
    assert {c for r in reads if r.path == ("e",) for c in r.compared} == {'"x"', '"y"'}


def test_only_reads_that_make_the_value_undefined_are_strict() -> None:
    assert _strict(_nata("{% $states.input.a.b %}")) == {("a", "b")}
    assert _strict(_nata("{% $states.input.a * $states.input.b %}")) == {("a",), ("b",)}
    assert _strict(_nata("{% $states.input.a = 'x' %}")) == set()
    assert _strict(_nata("{% $exists($states.input.a) ? $states.input.a : 0 %}")) == set()
    assert _strict(_nata("{% $states.input.a ? $states.input.b : $states.input.b %}")) == {("b",)}
    assert _strict(_nata("{% ($x := $states.input.k; $x) %}")) == {("k",)}
    assert _strict(_nata("{% $states.input.items[0] %}")) == {("items",)}


def test_jsonata_variables_carry_the_input_they_were_assigned() -> None:
    reads = _nata("{% $total > 10 %}", {"total": from_input(("order", "amount"))})
    assert _typed(reads) == {("order", "amount"): {"number"}}


def test_a_function_as_a_path_step_reads_its_context() -> None:
    assert _typed(_nata("{% $states.input.a.b.$lowercase() %}")) == {("a", "b"): {"string"}}
    assert _typed(_nata("{% $states.input.name ~> $uppercase %}")) == {("name",): {"string"}}


def test_jsonata_context_and_backticks() -> None:
    reads = _nata("{% $states.context.Execution.Input.`first name` & $states.context.Task.Token %}")
    assert _typed(reads) == {("first name",): {"string"}}


# -- the route graph --------------------------------------------------------------------------


def _required(definition: dict[str, Any]) -> set[InputPath]:
    from sfn_mcp.infer.walk import Walker

    recorder = Walker(definition).run()
    return required_paths(build_graph(definition), recorder.reads)


def test_a_read_on_one_choice_branch_is_optional() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "B"}],
                "Default": "D",
            },
            "B": {"Type": "Pass", "Parameters": {"b.$": "$.b"}, "End": True},
            "D": {"Type": "Pass", "Parameters": {"c.$": "$.c"}, "Next": "E"},
            "E": {"Type": "Pass", "Parameters": {"b.$": "$$.Execution.Input.b"}, "End": True},
        },
    }
    assert _required(definition) == {("a",), ("b",)}


def test_a_map_makes_its_items_fields_required_but_not_what_it_reads_per_item() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.rows",
                "ItemSelector": {"row.$": "$$.Map.Item.Value", "run.$": "$.run"},
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {
                        "P": {"Type": "Pass", "Parameters": {"id.$": "$.row.id"}, "End": True}
                    },
                },
                "End": True,
            }
        },
    }
    assert _required(definition) == {("rows",), ("rows", ITEM), ("rows", ITEM, "id")}


def test_a_loop_that_keeps_descending_is_cut_after_a_few_levels() -> None:
    definition = {
        "StartAt": "Visit",
        "States": {
            "Visit": {
                "Type": "Pass",
                "Parameters": {"v.$": "$.value"},
                "ResultPath": "$.seen",
                "Next": "More?",
            },
            "More?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.next", "IsPresent": True, "Next": "Step"}],
                "Default": "Done",
            },
            "Step": {"Type": "Pass", "OutputPath": "$.next", "Next": "Visit"},
            "Done": {"Type": "Succeed"},
        },
    }
    schema = infer_input(json.dumps(definition)).schema
    assert schema is not None
    level = schema["properties"]
    depth = 0
    while "next" in level:
        assert "value" in level
        level = level["next"].get("properties", {})
        depth += 1
    assert 1 <= depth <= 3


def test_an_input_read_as_an_array_gives_no_object_schema() -> None:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$.id"}, "End": True}},
                },
                "End": True,
            }
        },
    }
    inference = infer_input(json.dumps(definition))
    assert inference.schema is None
    assert inference.notes[0].level == "warning"
    assert "read as an array" in inference.notes[0].message


_JUNK: list[Any] = [
    None,
    1,
    -2.5,
    True,
    "",
    "$",
    "$$",
    "$.",
    "{% %}",
    "{% $states.input.( %}",
    "States.Format(",
    [],
    {},
    [1, {"a.$": "$.x"}],
    {"x.$": 5},
    "$..a",
    "$.a[?(@.b)]",
    "{% $states %}",
    "{% ** %}",
    "States.ArrayGetItem($.a)",
]


def _mutate(node: Any, rng: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            roll = rng.random()
            if roll < 0.08:
                continue
            out[key] = rng.choice(_JUNK) if roll < 0.2 else _mutate(value, rng)
        return out
    if isinstance(node, list):
        return [_mutate(v, rng) if rng.random() > 0.15 else rng.choice(_JUNK) for v in node]
    return node


def test_malformed_definitions_never_crash_the_inference() -> None:
    import random

    rng = random.Random(20260101)
    documents = [json.loads(_read(c / "definition.asl.json")) for c in CASES]
    for _ in range(400):
        text = json.dumps(_mutate(rng.choice(documents), rng))
        infer_input(text).schema_json()
        infer_hints(text, "arn:aws:states:us-east-1:111111111111:stateMachine:m")


# -- hints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "key", "account"),
    [
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda:invoke", ""),
        ("arn:aws:lambda:eu-west-1:123456789012:function:f:live", "lambda:invoke", "123456789012"),
        ("arn:aws:states:::aws-sdk:dynamodb:getItem", "dynamodb:getitem", ""),
        ("arn:aws:states:::states:startExecution.sync:2", "states:startexecution", ""),
        ("arn:aws-cn:states:::http:invoke", "http:invoke", ""),
        (
            "arn:aws:states:us-east-1:123456789012:activity:review",
            "activity:review",
            "123456789012",
        ),
        ("${SomeFunction}", "", ""),
    ],
)
def test_resources_reduce_to_service_and_action(resource: str, key: str, account: str) -> None:
    call = reduce_resource(resource)
    assert (call.key, call.account) == (key, account)


@pytest.mark.parametrize(
    ("key", "read_only", "destructive", "open_world"),
    [
        ("dynamodb:getitem", True, False, False),
        ("s3:getobject", True, False, False),
        ("ec2:describeinstances", True, False, False),
        ("dynamodb:query", True, False, False),
        ("dynamodb:batchgetitem", True, False, False),
        ("dynamodb:putitem", False, True, False),
        ("s3:deleteobject", False, True, False),
        ("ec2:terminateinstances", False, True, False),
        ("sns:publish", False, False, False),
        ("events:putevents", False, False, False),
        ("lambda:invoke", False, True, True),
        ("http:invoke", False, True, True),
        ("states:startexecution", False, True, True),
        ("ec2:rebootinstances", False, True, False),
    ],
)
def test_the_integration_table(
    key: str, read_only: bool, destructive: bool, open_world: bool
) -> None:
    effect = integration_for(key).effect
    assert (effect.read_only, effect.destructive, effect.open_world) == (
        read_only,
        destructive,
        open_world,
    )


def test_the_integration_table_ends_with_a_catch_all() -> None:
    assert INTEGRATIONS[-1].pattern == "*:*"
    assert not INTEGRATIONS[-1].effect.read_only


def test_a_lambda_in_another_account_and_a_role_chosen_at_run_time_are_open_world() -> None:
    machine = "arn:aws:states:us-east-1:111111111111:stateMachine:m"
    same = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "b", "Key": "k"},
                "End": True,
            }
        },
    }
    assert not infer_hints(json.dumps(same), machine).open_world.value
    other = json.loads(json.dumps(same))
    other["States"]["T"]["Credentials"] = {"RoleArn.$": "$.role"}
    assert infer_hints(json.dumps(other), machine).open_world.reason == (
        "state `T` assumes a role chosen at run time"
    )


def test_unparseable_definitions_give_no_inference() -> None:
    assert infer_input("{not json").schema is None
    assert infer_input("[]").notes[0].level == "warning"
    assert infer_hints("{not json").read_only.value is True


def test_notes_become_diagnostics_naming_the_machine() -> None:
    text = _read(
        Path(__file__).parent / "infer" / "cases" / "passthrough-only" / "definition.asl.json"
    )
    (diagnostic,) = infer_input(text).diagnostics("handler")
    assert diagnostic.level == "note"
    assert diagnostic.message.startswith("state machine 'handler': state `Handle` passes")
    assert "schema-tag-key" in diagnostic.hint


# -- the room's boundary ----------------------------------------------------------------------


def test_the_infer_room_imports_only_what_it_may() -> None:
    allowed_third_party = {"jsonpath_ng", "jsonata", "genson"}
    room = ROOT / "compiler" / "sfn_mcp" / "infer"
    for path in sorted(room.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                # the stage module is the room's door: it reads the read stage's records and the
                # settings; the inference itself knows nothing of sfn-mcp
                door = {"sfn_mcp.read.records", "sfn_mcp.settings", "sfn_mcp.naming"}
                if top == "sfn_mcp" and path.name == "stage.py" and name in door:
                    continue
                if top == "sfn_mcp":
                    assert name.startswith("sfn_mcp.infer") or name == "sfn_mcp.diagnostics", (
                        path.name,
                        name,
                    )
                elif top not in ("__future__",):
                    assert top in sys.stdlib_module_names or top in allowed_third_party, (
                        path.name,
                        name,
                    )
