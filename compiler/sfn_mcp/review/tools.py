"""Tool- and server-level rules: the server's names, tools added, removed and renamed, and what
differs in one tool besides its schemas (words, hints, state machine, schema sources), before its
two schemas go to the walker. A tool whose state machine ARN moved to exactly one new name is a
rename, not a removal and an addition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from sfn_mcp.review.rules import (
    ANNOTATION_CHANGED,
    CANCEL_BEHAVIOUR_CHANGED,
    DEFINITION_CHANGED,
    OUTPUT_SCHEMA_ADDED,
    OUTPUT_SCHEMA_REMOVED,
    PACKAGE_RENAMED,
    SCHEMA_SOURCE_CHANGED,
    SCHEMA_VERSION_CHANGED,
    SERVER_RENAMED,
    STATE_MACHINE_CHANGED,
    SURFACE_CHANGED,
    TOOL_ADDED,
    TOOL_METADATA_CHANGED,
    TOOL_REMOVED,
    TOOL_RENAMED,
    WAIT_CHANGED,
    WORDS_CHANGED,
    WORKFLOW_TYPE_CHANGED,
    Rule,
)
from sfn_mcp.review.schemas.keywords import mapping
from sfn_mcp.review.schemas.values import fmt
from sfn_mcp.review.surface import ABSENT, Change, Surface, finding, show
from sfn_mcp.review.walk import walk

HINT_MESSAGES: Final = {
    ("readOnlyHint", True): "now marked read-only",
    ("readOnlyHint", False): "no longer marked read-only: clients may ask before each call",
    ("destructiveHint", True): "now marked destructive: clients may ask for confirmation",
    ("destructiveHint", False): "no longer marked destructive",
    ("idempotentHint", True): "now marked idempotent: clients may retry calls",
    ("idempotentHint", False): "no longer marked idempotent: clients should not retry calls",
    ("openWorldHint", True): "now marked as reaching outside systems",
    ("openWorldHint", False): "no longer marked as reaching outside systems",
}
KNOWN_TOOL_KEYS: Final = frozenset(
    {"name", "title", "description", "stateMachine", "inputSchemaSource", "outputSchemaSource"}
    | {"annotations", "inputSchema", "outputSchema"}
)
# What one tool's differences may report (its schemas are the walker's).
TOOL_AREAS: Final = frozenset({"tool", "workflow", "annotation"})


def _machine(tool: Mapping[str, Any]) -> Mapping[str, Any] | None:
    machine = tool.get("stateMachine")
    return machine if isinstance(machine, dict) else None


def _machine_text(machine: Mapping[str, Any]) -> str:
    return str(machine.get("name") or machine.get("arn") or "?")


def server_changes(old: Surface, new: Surface) -> list[Change]:
    """The package and server names (only when both surfaces exist)."""
    out: list[Change] = []
    if not (old.exists and new.exists):
        return out
    if old.package != new.package:
        message = (
            f"package {show(old.package)} -> {show(new.package)}: `python -m` in "
            "client configurations must change"
        )
        out.append(
            finding(
                PACKAGE_RENAMED,
                tool="",
                path="package",
                message=message,
                old=old.package,
                new=new.package,
            )
        )
    if old.server != new.server:
        message = f"server name {show(old.server)} -> {show(new.server)}"
        out.append(
            finding(
                SERVER_RENAMED,
                tool="",
                path="server",
                message=message,
                old=old.server,
                new=new.server,
            )
        )
    if old.surface != new.surface:
        message = (
            f"tools/list offers {_offers(old.surface)}, now {_offers(new.surface)}: clients that "
            "call a tool by its name must change"
        )
        out.append(
            finding(
                SURFACE_CHANGED,
                tool="",
                path="surface",
                message=message,
                old=old.surface,
                new=new.surface,
            )
        )
    return out


def _offers(surface: str) -> str:
    return {"all": "one tool per workflow", "search": "the search tools"}.get(surface, surface)


def renames(old: Surface, new: Surface, removed: list[str], added: list[str]) -> dict[str, str]:
    """Old name → new name for tools whose state machine ARN moved to exactly one new name."""

    def by_arn(surface: Surface, names: list[str]) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name in names:
            machine = _machine(surface.tools[name])
            if machine and isinstance(machine.get("arn"), str):
                index.setdefault(machine["arn"], []).append(name)
        return index

    gone, came = by_arn(old, removed), by_arn(new, added)
    return {
        names[0]: came[arn][0]
        for arn, names in gone.items()
        if len(names) == 1 and len(came.get(arn, [])) == 1
    }


def tool_removed(name: str) -> Change:
    message = f"tool removed: calls to {name} fail with an unknown-tool error"
    return finding(TOOL_REMOVED, tool=name, path="tool", message=message)


def tool_added(name: str, tool: Mapping[str, Any]) -> Change:
    machine = _machine(tool)
    runs = f" ({machine.get('type')} workflow {_machine_text(machine)})" if machine else ""
    return finding(TOOL_ADDED, tool=name, path="tool", message=f"new tool{runs}")


def tool_renamed(before: str, after: str, tool: Mapping[str, Any]) -> Change:
    machine = _machine(tool) or {}
    message = (
        f"renamed from {before} (same state machine {_machine_text(machine)}): calls to "
        f"{before} fail with an unknown-tool error"
    )
    return finding(TOOL_RENAMED, tool=after, path="tool", message=message, old=before, new=after)


def tool_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The differences of one tool present on both sides (under ``name``, its new name)."""
    return _ToolDiff(name, old, new).run()


class _ToolDiff:
    """The tool-level differences of one tool present on both sides, then its two schemas."""

    def __init__(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.name, self.old, self.new = name, old, new
        self.out: list[Change] = []

    def emit(
        self, rule: Rule, path: str, message: str, old: Any = ABSENT, new: Any = ABSENT
    ) -> None:
        """Record a finding of ``rule`` for this tool; its severity comes from the table."""
        if rule.area not in TOOL_AREAS:
            raise ValueError(f"rule {rule.id} ({rule.area}) is not a tool rule")
        self.out.append(finding(rule, tool=self.name, path=path, message=message, old=old, new=new))

    def run(self) -> list[Change]:
        old, new = self.old, self.new
        for key in ("title", "description"):
            self.words(key, old.get(key, ABSENT), new.get(key, ABSENT))
        self.machine(_machine(old), _machine(new))
        for key in ("inputSchemaSource", "outputSchemaSource"):
            self.source(key, old.get(key), new.get(key))
        self.hints(mapping(old.get("annotations")), mapping(new.get("annotations")))
        self.out.extend(walk(self.name, "input", old.get("inputSchema"), new.get("inputSchema")))
        schema_old, schema_new = old.get("outputSchema"), new.get("outputSchema")
        if schema_old is None and schema_new is not None:
            self.emit(OUTPUT_SCHEMA_ADDED, "output", "now declares an output schema")
        elif schema_old is not None and schema_new is None:
            message = "no longer declares an output schema: clients lose the typed result"
            self.emit(OUTPUT_SCHEMA_REMOVED, "output", message)
        elif schema_old is not None:
            self.out.extend(walk(self.name, "output", schema_old, schema_new))
        self.unknown("", old, new, KNOWN_TOOL_KEYS)
        return self.out

    def words(self, key: str, before: Any, after: Any) -> None:
        if before != after:
            message = f"tool {key} {show(before)} -> {show(after)}"
            self.emit(WORDS_CHANGED[key], key, message, before, after)

    def hints(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        for hint in sorted(set(old) | set(new)):
            before, after = old.get(hint, ABSENT), new.get(hint, ABSENT)
            if before == after:
                continue
            message = f"{show(before)} -> {show(after)}"
            if isinstance(after, bool) and (hint, after) in HINT_MESSAGES:
                message = f"{HINT_MESSAGES[hint, after]} (was {show(before)})"
            self.emit(ANNOTATION_CHANGED, f"annotations.{hint}", message, before, after)

    def machine(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        if old is None or new is None:
            if old is not None or new is not None:
                message = (
                    f"now runs the state machine {_machine_text(new)}"
                    if new is not None
                    else f"no longer runs a state machine (was {_machine_text(old or {})})"
                )
                self.emit(STATE_MACHINE_CHANGED, "stateMachine", message, old, new)
            return
        arn_old, arn_new = old.get("arn"), new.get("arn")
        if arn_old != arn_new:
            message = f"now runs {arn_new} (was {arn_old}): behaviour may change"
            self.emit(STATE_MACHINE_CHANGED, "stateMachine.arn", message, arn_old, arn_new)
        type_old, type_new = old.get("type"), new.get("type")
        if type_old != type_new:
            consequence = {
                "EXPRESS": "calls now run synchronously for at most 5 minutes, without retries",
                "STANDARD": "a call may now return RUNNING and an execution ARN instead of the "
                "result",
            }.get(str(type_new), "calls behave differently")
            message = f"workflow type {type_old} -> {type_new}: {consequence}"
            self.emit(WORKFLOW_TYPE_CHANGED, "stateMachine.type", message, type_old, type_new)
        sha_old, sha_new = old.get("definitionSha256"), new.get("definitionSha256")
        if sha_old != sha_new:
            message = (
                f"definition changed ({str(sha_old)[:12]} -> {str(sha_new)[:12]}) with the same "
                "contract: behaviour may change"
            )
            path = "stateMachine.definitionSha256"
            self.emit(DEFINITION_CHANGED, path, message, sha_old, sha_new)
        wait_old, wait_new = old.get("maxWaitSeconds"), new.get("maxWaitSeconds")
        if "maxWaitSeconds" in old and wait_old != wait_new:
            message = (
                f"waits up to {fmt(wait_new)} s (was {fmt(wait_old)} s) before returning "
                "RUNNING: a client's own timeout may need to follow"
            )
            path = "stateMachine.maxWaitSeconds"
            self.emit(WAIT_CHANGED, path, message, wait_old, wait_new)
        stop_old, stop_new = old.get("stopOnCancel"), new.get("stopOnCancel")
        if "stopOnCancel" in old and stop_old != stop_new:
            message = (
                "a cancelled call now stops the execution"
                if stop_new
                else "a cancelled call now leaves the execution running"
            )
            path = "stateMachine.stopOnCancel"
            self.emit(CANCEL_BEHAVIOUR_CHANGED, path, message, stop_old, stop_new)
        known = {"name", "arn", "type", "definitionSha256"}
        known |= {key for key in ("maxWaitSeconds", "stopOnCancel") if key in old}
        self.unknown("stateMachine.", old, new, known)

    def source(self, key: str, old: Any, new: Any) -> None:
        if old == new:
            return
        before, after = mapping(old), mapping(new)
        if before and after and before.get("arn") == after.get("arn"):
            message = (
                f"schema version {fmt(before.get('version'))} -> "
                f"{fmt(after.get('version'))} of {after.get('arn')}"
            )
            self.emit(SCHEMA_VERSION_CHANGED, key, message, old, new)
            return
        if not before:
            message = f"now generated from {after.get('arn')} version {fmt(after.get('version'))}"
        elif not after:
            message = f"no longer generated from a registry schema (was {before.get('arn')})"
        else:
            message = (
                f"schema {before.get('arn')} -> {after.get('arn')} version "
                f"{fmt(after.get('version'))}"
            )
        self.emit(SCHEMA_SOURCE_CHANGED, key, message, old, new)

    def unknown(
        self, prefix: str, old: Mapping[str, Any], new: Mapping[str, Any], known: Iterable[str]
    ) -> None:
        """Keys a later surface format may add: reported, never silently ignored."""
        for key in sorted((set(old) | set(new)) - set(known)):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if before != after:
                message = f"{key} {show(before)} -> {show(after)}"
                self.emit(TOOL_METADATA_CHANGED, f"{prefix}{key}", message, before, after)
