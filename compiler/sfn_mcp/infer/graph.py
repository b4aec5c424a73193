"""The route graph of a definition, and which input fields every route reads.

Each state is a few nodes: ``in`` (where its input is taken: ``InputPath``, ``Parameters``,
``Arguments``, ``ItemsPath`` …), ``out`` (``ResultSelector``, ``Assign``, ``Output``,
``OutputPath``), ``rule0``, ``rule1`` … for a Choice (a rule is only evaluated when those before
it did not match, so ``rule1`` comes after ``rule0``), ``default``, ``catch0`` … (a Catch leaves
from ``in``: the task failed, what comes after it did not run), ``items`` (a Map's
``ItemSelector``, once per item) and ``failed`` (a branch or iteration failed).

A Parallel's branches all run, so they are chained one after the other. A Map's iteration runs
once per item and maybe never: a *skip* edge goes around it, taken for every path except those
below one of its items (an item that exists went through the iteration).

A field is required when no route from the start to an end (the machine's end or any Fail)
avoids the nodes that read it strictly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sfn_mcp.infer.asl import as_list, processor, states_of
from sfn_mcp.infer.facts import NodeId, Read
from sfn_mcp.infer.values import ITEM, Path

START = "^start"
END = "^end"
FAIL = "^fail"


@dataclass
class RouteGraph:
    edges: dict[NodeId, list[tuple[NodeId, bool]]] = field(default_factory=dict)

    def add(self, source: NodeId, target: NodeId, *, skip: bool = False) -> None:
        self.edges.setdefault(source, []).append((target, skip))

    def reaches_end(self, blocked: set[NodeId], *, skips: bool) -> bool:
        """Whether some route from the start reaches an end without passing ``blocked``."""
        ends = {(END,), (FAIL,)}
        start: NodeId = (START,)
        seen = {start}
        queue: deque[NodeId] = deque([start])
        while queue:
            node = queue.popleft()
            if node in ends:
                return True
            for target, skip in self.edges.get(node, ()):
                if (skip and not skips) or target in seen or target in blocked:
                    continue
                seen.add(target)
                queue.append(target)
        return False


def build_graph(definition: dict[str, Any]) -> RouteGraph:
    graph = RouteGraph()
    _scope(graph, definition, (), (START,), (END,), (FAIL,))
    return graph


def _scope(
    graph: RouteGraph, scope: Any, prefix: NodeId, entry: NodeId, exit_: NodeId, fail: NodeId
) -> None:
    states, start = states_of(scope)
    if start is None:
        graph.add(entry, exit_)
        return

    def node(state: str, part: str) -> NodeId:
        return (*prefix, state, part)

    def goto(source: NodeId, target: object) -> None:
        # an unknown target is a broken definition: count it as an end (fewer fields required)
        graph.add(
            source, node(target, "in") if isinstance(target, str) and target in states else exit_
        )

    graph.add(entry, node(start, "in"))
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        name = str(name)
        kind = state.get("Type")
        enter, leave, failed = node(name, "in"), node(name, "out"), node(name, "failed")
        if kind == "Choice":
            previous = enter
            for index, rule in enumerate(as_list(state.get("Choices"))):
                current = node(name, f"rule{index}")
                graph.add(previous, current)
                goto(current, rule.get("Next") if isinstance(rule, dict) else None)
                previous = current
            default = node(name, "default")
            graph.add(previous, default)
            if "Default" in state:
                goto(default, state["Default"])
            else:
                graph.add(default, fail)  # States.NoChoiceMatched
            continue
        if kind == "Fail":
            graph.add(enter, fail)
            continue
        if kind == "Parallel":
            previous = enter
            for index, branch in enumerate(as_list(state.get("Branches"))):
                inner = (*prefix, name, f"branch{index}")
                graph.add(previous, (*inner, START))
                _scope(graph, branch, inner, (*inner, START), (*inner, END), (*inner, FAIL))
                graph.add((*inner, FAIL), failed)
                previous = (*inner, END)
            graph.add(previous, leave)
            graph.add(failed, fail)
        elif kind == "Map":
            inner = (*prefix, name, "iteration")
            iteration = processor(state)
            items = node(name, "items")
            graph.add(enter, items)
            graph.add(items, (*inner, START))
            _scope(graph, iteration, inner, (*inner, START), (*inner, END), (*inner, FAIL))
            graph.add((*inner, END), leave)
            graph.add((*inner, FAIL), failed)
            graph.add(enter, leave, skip=True)  # no items
            graph.add(failed, fail)
        else:
            graph.add(enter, leave)
        for index, catcher in enumerate(as_list(state.get("Catch"))):
            caught = node(name, f"catch{index}")
            graph.add(enter, caught)
            if kind in ("Parallel", "Map"):
                graph.add(failed, caught)
            goto(caught, catcher.get("Next") if isinstance(catcher, dict) else None)
        if kind == "Succeed" or state.get("End") or "Next" not in state:
            graph.add(leave, exit_)
        else:
            goto(leave, state["Next"])


def required_paths(graph: RouteGraph, reads: Iterable[Read]) -> set[Path]:
    """The paths every route reads strictly."""
    blockers: dict[Path, set[NodeId]] = {}
    for read in reads:
        for length in range(1, read.strict + 1):
            blockers.setdefault(read.path[:length], set()).add(read.node)
    return {
        path
        for path, nodes in blockers.items()
        if not graph.reaches_end(nodes, skips=ITEM not in path)
    }
