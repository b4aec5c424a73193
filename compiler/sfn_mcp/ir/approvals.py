"""Approval steps: the states of a definition where the workflow waits for a person.

The marking is in the definition, where it is reviewed with the workflow: a Task state whose
resource waits for a task token (``….waitForTaskToken``) and whose ``Comment`` starts with
``Approval:``; the rest of the comment is the question the user is asked. The generated
server finds the token where the state's parameters put ``$$.Task.Token`` (JSONPath) or
``$states.context.Task.Token`` (JSONata), so the compiler records that path. A marked state
that cannot be answered (no task token, or no path to it the server can follow, or one inside a
Parallel or Map, whose history interleaves) is a warning naming it, and stays a plain step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sfn_mcp.diagnostics import Diagnostics

MARKER = re.compile(r"^\s*approval\s*:\s*", re.IGNORECASE)
JSONPATH_TOKEN = "$$.Task.Token"
JSONATA_TOKEN = re.compile(r"^\{%\s*\$states\.context\.Task\.Token\s*%\}$")


@dataclass(frozen=True)
class ApprovalStep:
    state: str
    question: str
    token_path: tuple[str, ...]


def _states(states: Any, nested: bool) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """(name, state, inside a Parallel or Map) for every state, branches included."""
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        yield str(name), state, nested
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                yield from _states(branch.get("States"), True)
        for key in ("ItemProcessor", "Iterator"):
            inner = state.get(key)
            if isinstance(inner, dict):
                yield from _states(inner.get("States"), True)


def _token_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where the resolved parameters hold the task token, as keys (``.$`` suffixes dropped)."""
    if isinstance(value, str):
        if value == JSONPATH_TOKEN or JSONATA_TOKEN.match(value.strip()):
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if name.endswith(".$"):
                if item == JSONPATH_TOKEN:
                    return (*path, name[:-2])
                continue
            found = _token_path(item, (*path, name))
            if found is not None:
                return found
    return None


def approval_steps(
    machine: str, definition: str, diagnostics: Diagnostics
) -> tuple[ApprovalStep, ...]:
    try:
        document = json.loads(definition)
    except ValueError:
        return ()
    if not isinstance(document, dict):
        return ()
    found = []
    for name, state, nested in _states(document.get("States"), False):
        comment = state.get("Comment")
        if not isinstance(comment, str) or not MARKER.match(comment):
            continue
        where = f"state machine {machine!r}: state {name!r} is marked as an approval step"
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not (
            isinstance(resource, str) and resource.endswith(".waitForTaskToken")
        ):
            diagnostics.warning(
                f"{where} but does not wait for a task token; it stays a plain step",
                hint="use a .waitForTaskToken resource, or drop 'Approval:' from its Comment",
            )
            continue
        if nested:
            diagnostics.warning(
                f"{where} inside a Parallel or Map, whose waiting steps the server cannot tell "
                "apart; it is not answered from the client",
                hint="move the approval out of the Parallel/Map, or answer it outside MCP",
            )
            continue
        path = _token_path(state.get("Parameters", state.get("Arguments")))
        if not path:
            diagnostics.warning(
                f"{where}, but its Parameters/Arguments pass the task token nowhere the server "
                "can read it back; it is not answered from the client",
                hint='pass "$$.Task.Token" as a value of its Parameters (e.g. "token.$": '
                '"$$.Task.Token")',
            )
            continue
        question = MARKER.sub("", comment).strip() or f"Approve step {name}?"
        found.append(ApprovalStep(name, question, path))
    return tuple(found)
