"""The walk: from ``StartAt`` through every state, branch and iteration, following how each
state reshapes what the next one sees.

Each scope (the machine, a Parallel branch, a Map's ``ItemProcessor``/``Iterator``) is a small
data-flow problem: the input of a state is the join of what every transition into it carries
(a ``Value`` and the workflow variables). It is solved to a fixed point first, without
recording anything; then every reached state is read once more with its settled input, and
that pass records the reads (and runs the scopes nested in it, which do not change what their
state passes on: a Map or Parallel result is never the execution input).

What each state does with its input follows the Amazon States Language: JSONPath states go
``InputPath`` → ``Parameters``/``ItemSelector`` → (the task) → ``ResultSelector`` →
``ResultPath`` (into the raw state input) → ``OutputPath``, ``Assign`` seeing the result;
JSONata states read ``$states.input`` in ``Arguments``/``Output``/``Assign``/``Condition``/
``Items``/``ItemSelector``/… and their output is ``Output`` (a task's result by default, the
input for Pass, Wait and Choice). Reads are attached to route-graph nodes with the ids
``graph.py`` gives them.
"""

from __future__ import annotations

import contextlib
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sfn_mcp.infer.asl import as_dict, as_list, processor, states_of
from sfn_mcp.infer.facts import Kind, NodeId, Recorder, Sink, literal_text
from sfn_mcp.infer.hints import describe_resource
from sfn_mcp.infer.intrinsics import IntrinsicError, eval_intrinsic, is_intrinsic, parse_intrinsic
from sfn_mcp.infer.jsonata_expr import NataEnv, eval_jsonata, eval_template, is_expression
from sfn_mcp.infer.refs import PathEnv, RefError, parse_ref, read_ref
from sfn_mcp.infer.values import ITEM, UNKNOWN, Value, constructed, from_input, get, join, put

MAX_VISITS = 24  # a state whose input still changes after this many visits is left as it is

Variables = Mapping[str, Value]
Transition = tuple[object, Value, Variables]

# Choice comparators: the kind they read, whether it is a timestamp.
COMPARATORS: dict[str, tuple[Kind | None, bool]] = {
    **{
        f"String{op}{path}": ("string", False)
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
        for path in ("", "Path")
    },
    "StringMatches": ("string", False),
    **{
        f"Numeric{op}{path}": ("number", False)
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
        for path in ("", "Path")
    },
    "BooleanEquals": ("boolean", False),
    "BooleanEqualsPath": ("boolean", False),
    **{
        f"Timestamp{op}{path}": ("string", True)
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
        for path in ("", "Path")
    },
    "IsNull": (None, False),
    "IsPresent": (None, False),
    "IsNumeric": ("number", False),
    "IsString": ("string", False),
    "IsBoolean": ("boolean", False),
    "IsTimestamp": ("string", True),
}

# JSONPath fields that take a reference to a number
_NUMBER_PATHS: dict[str, Kind] = {
    "TimeoutSecondsPath": "integer",
    "HeartbeatSecondsPath": "integer",
    "MaxConcurrencyPath": "integer",
    "ToleratedFailurePercentagePath": "number",
    "ToleratedFailureCountPath": "integer",
}
# JSONata fields that take a number
_NUMBER_FIELDS: dict[str, Kind] = {
    "TimeoutSeconds": "integer",
    "HeartbeatSeconds": "integer",
    "MaxConcurrency": "integer",
    "ToleratedFailurePercentage": "number",
    "ToleratedFailureCount": "integer",
}


@dataclass(frozen=True)
class _In:
    value: Value
    variables: Variables

    def join(self, other: _In) -> _In:
        names = sorted(set(self.variables) | set(other.variables))
        merged = {
            name: join([self.variables.get(name, UNKNOWN), other.variables.get(name, UNKNOWN)])
            for name in names
        }
        return _In(join([self.value, other.value]), merged)


@dataclass(frozen=True)
class _Ctx:
    """One state being read: its name, where it sits, what ``$$.Execution.Input`` is."""

    name: str
    prefix: NodeId
    exec_input: Value
    recorder: Recorder | None

    def sink(self, part: str) -> Sink | None:
        if self.recorder is None:
            return None
        return Sink(self.recorder, self.name, (*self.prefix, self.name, part))

    @property
    def recording(self) -> bool:
        return self.recorder is not None


class Walker:
    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = definition
        self.language = str(definition.get("QueryLanguage") or "JSONPath")
        self.recorder = Recorder()
        self.unsettled: list[str] = []

    def run(self) -> Recorder:
        root = from_input()
        self.scope(self.definition, (), root, {}, root, record=True)
        return self.recorder

    # -- scopes ----------------------------------------------------------------------------

    def scope(
        self,
        scope: Any,
        prefix: NodeId,
        value: Value,
        variables: Variables,
        exec_input: Value,
        *,
        record: bool,
    ) -> None:
        states, start = states_of(scope)
        if start is None:
            return
        inputs: dict[str, _In] = {start: _In(value, variables)}
        queue: deque[str] = deque([start])
        queued = {start}
        visits: Counter[str] = Counter()
        while queue:
            name = queue.popleft()
            queued.discard(name)
            visits[name] += 1
            context = _Ctx(name, prefix, exec_input, None)
            for target, out, out_variables in self.state(context, states[name], inputs[name]):
                if not isinstance(target, str) or target not in states:
                    continue
                arriving = _In(out, out_variables)
                old = inputs.get(target)
                new = arriving if old is None else old.join(arriving)
                if new == old:
                    continue
                if visits[target] >= MAX_VISITS:
                    if target not in self.unsettled:
                        self.unsettled.append(target)
                    continue
                inputs[target] = new
                if target not in queued:
                    queue.append(target)
                    queued.add(target)
        if not record:
            return
        for name, state in states.items():
            if name in inputs:
                self.state(_Ctx(name, prefix, exec_input, self.recorder), state, inputs[name])

    def state(self, context: _Ctx, state: Any, incoming: _In) -> list[Transition]:
        if not isinstance(state, dict):
            return []
        language = str(state.get("QueryLanguage") or self.language)
        if language == "JSONata":
            return self._jsonata(context, state, incoming.value, incoming.variables)
        return self._jsonpath(context, state, incoming.value, incoming.variables)

    # -- JSONPath --------------------------------------------------------------------------

    def _dynamic(self, text: str, env: PathEnv, sink: Sink | None) -> Value:
        """The value of a ``.$`` field: a reference or an intrinsic function."""
        try:
            if is_intrinsic(text):
                return eval_intrinsic(parse_intrinsic(text), env, sink)
            return read_ref(parse_ref(text), env, sink)
        except (RefError, IntrinsicError) as error:
            if sink is not None:
                sink.note(f"{error}: what it reads cannot be seen", level="warning")
            return UNKNOWN

    def _template(self, template: object, env: PathEnv, sink: Sink | None) -> Value:
        """``Parameters``, ``ItemSelector``, ``ResultSelector``, ``Assign`` …: keys ending in
        ``.$`` take a reference or an intrinsic; everything else is as written."""
        if isinstance(template, dict):
            fields: dict[str, Value] = {}
            for key, value in template.items():
                key = str(key)
                if key.endswith(".$") and isinstance(value, str):
                    fields[key[:-2]] = self._dynamic(value, env, sink)
                else:
                    fields[key] = self._template(value, env, sink)
            return constructed(fields)
        if isinstance(template, list):
            for element in template:
                self._template(element, env, sink)
        return UNKNOWN

    def _reference(
        self,
        text: object,
        env: PathEnv,
        sink: Sink | None,
        *,
        kind: Kind | None = None,
        date_time: bool = False,
        strict: bool = True,
    ) -> Value:
        if not isinstance(text, str):
            return UNKNOWN
        try:
            return read_ref(
                parse_ref(text), env, sink, kind=kind, date_time=date_time, strict=strict
            )
        except RefError as error:
            if sink is not None:
                sink.note(f"{error}: what it reads cannot be seen", level="warning")
            return UNKNOWN

    def _assign_paths(
        self, assign: object, env: PathEnv, sink: Sink | None, variables: Variables
    ) -> Variables:
        if not isinstance(assign, dict):
            return variables
        out = dict(variables)
        assigned = self._template(assign, env, sink)
        shape = assigned.single
        for key in assign:
            name = str(key)[:-2] if str(key).endswith(".$") else str(key)
            field = shape.field(name) if shape is not None else None
            out[name] = field if field is not None else UNKNOWN
        return out

    def _result_path(
        self, context: _Ctx, state: dict[str, Any], raw: Value, result: Value
    ) -> Value:
        if "ResultPath" not in state:
            return result
        target = state["ResultPath"]
        if target is None:
            return raw
        if not isinstance(target, str):
            return UNKNOWN
        try:
            ref = parse_ref(target)
        except RefError as error:
            sink = context.sink("out")
            if sink is not None:
                sink.note(f"ResultPath {error}", level="warning")
            return UNKNOWN
        if ref.root != "input" or not all(isinstance(s, str) for s in ref.segments):
            return UNKNOWN
        return put(raw, ref.segments, result)

    def _output_path(
        self, state: dict[str, Any], value: Value, env: PathEnv, sink: Sink | None
    ) -> Value:
        if "OutputPath" not in state:
            return value
        if state["OutputPath"] is None:
            return UNKNOWN
        return self._reference(state["OutputPath"], env.with_current(value), sink)

    def _jsonpath(
        self, context: _Ctx, state: dict[str, Any], raw: Value, variables: Variables
    ) -> list[Transition]:
        kind = state.get("Type")
        enter = context.sink("in")
        leave = context.sink("out")
        env = PathEnv(raw, context.exec_input, None, variables)

        if kind == "Fail":
            for field in ("ErrorPath", "CausePath"):
                text = state.get(field)
                if isinstance(text, str):
                    if is_intrinsic(text):
                        self._dynamic(text, env, enter)
                    else:
                        self._reference(text, env, enter, kind="string")
            return []

        if "InputPath" in state:
            effective = (
                UNKNOWN
                if state["InputPath"] is None
                else self._reference(state["InputPath"], env, enter)
            )
        else:
            effective = raw
        env = env.with_current(effective)

        if kind == "Choice":
            return self._choice_paths(context, state, effective, env)

        result = effective
        if kind == "Pass":
            if "Parameters" in state:
                result = self._template(state["Parameters"], env, enter)
            elif "Result" in state:
                result = UNKNOWN
        elif kind == "Wait":
            if "SecondsPath" in state:
                self._reference(state["SecondsPath"], env, enter, kind="integer")
            if "TimestampPath" in state:
                self._reference(state["TimestampPath"], env, enter, kind="string", date_time=True)
        elif kind == "Task":
            arguments = (
                self._template(state["Parameters"], env, enter)
                if "Parameters" in state
                else effective
            )
            self._task_fields(state, env, enter)
            if enter is not None:
                enter.escape(arguments, describe_resource(state.get("Resource")))
            result = UNKNOWN
        elif kind == "Parallel":
            branch_input = (
                self._template(state["Parameters"], env, enter)
                if "Parameters" in state
                else effective
            )
            if context.recording:
                self._branches(context, state, branch_input, variables)
            result = UNKNOWN
        elif kind == "Map":
            self._map_paths(context, state, env, variables)
            result = UNKNOWN

        if kind in ("Task", "Parallel", "Map") and "ResultSelector" in state:
            result = self._template(state["ResultSelector"], env.with_current(UNKNOWN), leave)

        after = self._assign_paths(state.get("Assign"), env.with_current(result), leave, variables)
        if kind in ("Pass", "Task", "Parallel", "Map"):
            combined = self._result_path(context, state, raw, result)
        else:
            combined = effective
        output = self._output_path(state, combined, env, leave)

        transitions: list[Transition] = []
        if kind != "Succeed" and not state.get("End"):
            transitions.append((state.get("Next"), output, after))
        for index, catcher in enumerate(as_list(state.get("Catch"))):
            if not isinstance(catcher, dict):
                continue
            sink = context.sink(f"catch{index}")
            error_env = env.with_current(UNKNOWN)
            caught = self._assign_paths(catcher.get("Assign"), error_env, sink, variables)
            landed = self._result_path(context, catcher, raw, UNKNOWN)
            transitions.append((catcher.get("Next"), landed, caught))
        return transitions

    def _task_fields(self, state: dict[str, Any], env: PathEnv, sink: Sink | None) -> None:
        for field, kind in _NUMBER_PATHS.items():
            if field in state:
                self._reference(state[field], env, sink, kind=kind)
        if "Credentials" in state:
            self._template(state["Credentials"], env, sink)

    def _choice_paths(
        self, context: _Ctx, state: dict[str, Any], effective: Value, env: PathEnv
    ) -> list[Transition]:
        output = self._output_path(state, effective, env, context.sink("in"))
        transitions: list[Transition] = []
        for index, rule in enumerate(as_list(state.get("Choices"))):
            if not isinstance(rule, dict):
                continue
            sink = context.sink(f"rule{index}")
            self._rule(rule, env, sink, strict=True)
            after = self._assign_paths(rule.get("Assign"), env, sink, env.variables)
            transitions.append((rule.get("Next"), output, after))
        after = self._assign_paths(state.get("Assign"), env, context.sink("default"), env.variables)
        transitions.append((state.get("Default"), output, after))
        return transitions

    def _rule(self, rule: dict[str, Any], env: PathEnv, sink: Sink | None, *, strict: bool) -> None:
        """One Choice rule. Only the first operand of ``And``/``Or`` is always evaluated (they
        stop early), so only its reads can be strict; ``IsPresent`` never is."""
        for combinator in ("And", "Or"):
            if isinstance(rule.get(combinator), list):
                for index, inner in enumerate(rule[combinator]):
                    if isinstance(inner, dict):
                        self._rule(inner, env, sink, strict=strict and index == 0)
                return
        if isinstance(rule.get("Not"), dict):
            self._rule(rule["Not"], env, sink, strict=strict)
            return
        variable = rule.get("Variable")
        if not isinstance(variable, str):
            return
        for key, operand in rule.items():
            if key not in COMPARATORS:
                continue
            kind, date_time = COMPARATORS[key]
            if key == "IsPresent":
                self._reference(variable, env, sink, strict=False)
            elif key == "IsNull":
                with contextlib.suppress(RefError):
                    read_ref(parse_ref(variable), env, sink, strict=strict, nullable=True)
            elif key.startswith("Is"):
                self._reference(
                    variable,
                    env,
                    sink,
                    kind=kind if operand is True else None,
                    date_time=date_time and operand is True,
                    strict=strict,
                )
            elif key.endswith("Path"):
                self._reference(variable, env, sink, kind=kind, date_time=date_time, strict=strict)
                self._reference(operand, env, sink, kind=kind, date_time=date_time, strict=strict)
            else:
                text = literal_text(operand)
                try:
                    read_ref(
                        parse_ref(variable),
                        env,
                        sink,
                        strict=strict,
                        kind=kind,
                        date_time=date_time,
                        compared=(text,) if text is not None else (),
                    )
                except RefError as error:
                    if sink is not None:
                        sink.note(f"{error}: what it reads cannot be seen", level="warning")

    def _branches(
        self, context: _Ctx, state: dict[str, Any], value: Value, variables: Variables
    ) -> None:
        for index, branch in enumerate(as_list(state.get("Branches"))):
            prefix = (*context.prefix, context.name, f"branch{index}")
            self.scope(branch, prefix, value, variables, context.exec_input, record=True)

    def _iteration(
        self, context: _Ctx, state: dict[str, Any], value: Value, variables: Variables
    ) -> None:
        iteration = processor(state)
        config = iteration.get("ProcessorConfig")
        distributed = isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED"
        prefix = (*context.prefix, context.name, "iteration")
        if distributed:
            # each item runs as a child execution: its execution input is the item, and the
            # variables of the parent are out of its reach
            self.scope(iteration, prefix, value, {}, value, record=True)
        else:
            self.scope(iteration, prefix, value, variables, context.exec_input, record=True)

    def _map_paths(
        self, context: _Ctx, state: dict[str, Any], env: PathEnv, variables: Variables
    ) -> None:
        if not context.recording:
            return  # a Map's result is never the execution input: only its reads matter
        enter = context.sink("in")
        reader = state.get("ItemReader")
        if isinstance(reader, dict):
            self._template(reader.get("Parameters"), env, enter)
            config = reader.get("ReaderConfig")
            if isinstance(config, dict) and "MaxItemsPath" in config:
                self._reference(config["MaxItemsPath"], env, enter, kind="integer")
            items = UNKNOWN
        else:
            items = self._reference(state.get("ItemsPath", "$"), env, enter, kind="array")
        for field, kind in _NUMBER_PATHS.items():
            if field in state:
                self._reference(state[field], env, enter, kind=kind)
        element = get(items, [ITEM])
        selector = state.get("ItemSelector", state.get("Parameters"))
        if selector is not None:
            selector_env = PathEnv(env.current, env.exec_input, element, variables)
            each = self._template(selector, selector_env, context.sink("items"))
        else:
            each = element
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            batch_input = self._template(batcher.get("BatchInput"), env, enter)
            for field in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
                if field in batcher:
                    self._reference(batcher[field], env, enter, kind="integer")
            batch = items if selector is None else UNKNOWN
            each = constructed({"Items": batch, "BatchInput": batch_input})
        writer = state.get("ResultWriter")
        if isinstance(writer, dict):
            self._template(writer.get("Parameters"), env, enter)
        self._iteration(context, state, each, variables)

    # -- JSONata ---------------------------------------------------------------------------

    def _assign_nata(
        self, assign: object, env: NataEnv, sink: Sink | None, variables: Variables
    ) -> Variables:
        if not isinstance(assign, dict):
            return variables
        out = dict(variables)
        for key, value in assign.items():
            out[str(key)] = eval_template(value, env, sink)
        return out

    def _jsonata(
        self, context: _Ctx, state: dict[str, Any], raw: Value, variables: Variables
    ) -> list[Transition]:
        kind = state.get("Type")
        enter = context.sink("in")
        leave = context.sink("out")
        env = NataEnv(raw, UNKNOWN, context.exec_input, None, variables)

        if kind == "Fail":
            for field in ("Error", "Cause"):
                if is_expression(state.get(field)):
                    eval_jsonata(str(state[field]), env, enter, kind="string")
            return []
        if kind == "Choice":
            return self._choice_nata(context, state, raw, env)

        default_output = raw if kind in ("Pass", "Wait", "Succeed") else UNKNOWN
        if kind == "Wait":
            if is_expression(state.get("Seconds")):
                eval_jsonata(str(state["Seconds"]), env, enter, kind="integer")
            if is_expression(state.get("Timestamp")):
                eval_jsonata(str(state["Timestamp"]), env, enter, kind="string", date_time=True)
        elif kind == "Task":
            arguments = (
                eval_template(state["Arguments"], env, enter) if "Arguments" in state else raw
            )
            for field, number in _NUMBER_FIELDS.items():
                if is_expression(state.get(field)):
                    eval_jsonata(str(state[field]), env, enter, kind=number)
            if "Credentials" in state:
                eval_template(state["Credentials"], env, enter)
            if enter is not None:
                enter.escape(arguments, describe_resource(state.get("Resource")))
        elif kind == "Parallel":
            branch_input = (
                eval_template(state["Arguments"], env, enter) if "Arguments" in state else raw
            )
            if context.recording:
                self._branches(context, state, branch_input, variables)
        elif kind == "Map":
            self._map_nata(context, state, env, variables)

        output = eval_template(state["Output"], env, leave) if "Output" in state else default_output
        after = self._assign_nata(state.get("Assign"), env, leave, variables)
        transitions: list[Transition] = []
        if kind != "Succeed" and not state.get("End"):
            transitions.append((state.get("Next"), output, after))
        for index, catcher in enumerate(as_list(state.get("Catch"))):
            if not isinstance(catcher, dict):
                continue
            sink = context.sink(f"catch{index}")
            landed = eval_template(catcher["Output"], env, sink) if "Output" in catcher else UNKNOWN
            caught = self._assign_nata(catcher.get("Assign"), env, sink, variables)
            transitions.append((catcher.get("Next"), landed, caught))
        return transitions

    def _choice_nata(
        self, context: _Ctx, state: dict[str, Any], raw: Value, env: NataEnv
    ) -> list[Transition]:
        transitions: list[Transition] = []
        for index, rule in enumerate(as_list(state.get("Choices"))):
            if not isinstance(rule, dict):
                continue
            sink = context.sink(f"rule{index}")
            if is_expression(rule.get("Condition")):
                eval_jsonata(str(rule["Condition"]), env, sink, kind="boolean")
            output = eval_template(rule["Output"], env, sink) if "Output" in rule else raw
            after = self._assign_nata(rule.get("Assign"), env, sink, env.variables)
            transitions.append((rule.get("Next"), output, after))
        sink = context.sink("default")
        output = eval_template(state["Output"], env, sink) if "Output" in state else raw
        after = self._assign_nata(state.get("Assign"), env, sink, env.variables)
        transitions.append((state.get("Default"), output, after))
        return transitions

    def _map_nata(
        self, context: _Ctx, state: dict[str, Any], env: NataEnv, variables: Variables
    ) -> None:
        if not context.recording:
            return
        enter = context.sink("in")
        reader = state.get("ItemReader")
        if isinstance(reader, dict):
            eval_template(reader.get("Arguments"), env, enter)
            limit = as_dict(reader.get("ReaderConfig")).get("MaxItems")
            if is_expression(limit):
                eval_jsonata(str(limit), env, enter, kind="integer")
            items = UNKNOWN
        elif "Items" not in state:
            items = env.states_input
            if enter is not None:
                enter.touch(items, kind="array")
        elif is_expression(state["Items"]):
            items = eval_jsonata(str(state["Items"]), env, enter, kind="array")
        else:
            eval_template(state["Items"], env, enter)
            items = UNKNOWN
        for field, number in _NUMBER_FIELDS.items():
            if is_expression(state.get(field)):
                eval_jsonata(str(state[field]), env, enter, kind=number)
        element = get(items, [ITEM])
        if "ItemSelector" in state:
            selector_env = NataEnv(env.states_input, UNKNOWN, env.exec_input, element, variables)
            each = eval_template(state["ItemSelector"], selector_env, context.sink("items"))
        else:
            each = element
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            batch_input = eval_template(batcher.get("BatchInput"), env, enter)
            for field in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
                if is_expression(batcher.get(field)):
                    eval_jsonata(str(batcher[field]), env, enter, kind="integer")
            batch = items if "ItemSelector" not in state else UNKNOWN
            each = constructed({"Items": batch, "BatchInput": batch_input})
        writer = state.get("ResultWriter")
        if isinstance(writer, dict):
            eval_template(writer.get("Arguments"), env, enter)
        self._iteration(context, state, each, variables)
