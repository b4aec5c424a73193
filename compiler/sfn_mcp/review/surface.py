"""The model of a review: a tool ``Surface`` (a parsed ``surface.json``) and the ``Change`` s
between two of them.

A surface is the reviewable contract of a generated server: its tools, their state machines and
the JSON Schemas they publish. A ``Change`` is one finding; ``finding`` is the only way to make
one, from a row of the rules table (``sfn_mcp.review.rules``), which gives its code and, with the
side, its severity. ``change_order`` is the order every output lists them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.rules import BREAKING, NON_BREAKING, Rule, Severity, Side, Variant, is_rule
from sfn_mcp.review.schemas.values import fmt
from sfn_mcp.surface import FORMAT

SURFACE_FORMAT: Final = FORMAT


class _Absent:
    """Marks an ``old``/``new`` value that does not exist (``None`` is JSON null)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def show(value: Any) -> str:
    """A value for a message, ``unset`` when it does not exist."""
    return "unset" if value is ABSENT else fmt(value)


@dataclass(frozen=True)
class Change:
    """One difference between two surfaces.

    ``tool`` is the tool's (new) name, or ``""`` for the server itself; ``code`` the id of its
    rule; ``path`` says where (``input.customer.email``, ``stateMachine.type``, ``tool``);
    ``old``/``new`` hold the values involved, or ``ABSENT``. Made by ``finding``.
    """

    tool: str
    severity: Severity
    code: str
    path: str
    message: str
    old: Any = ABSENT
    new: Any = ABSENT

    @property
    def breaking(self) -> bool:
        return self.severity == BREAKING

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": self.tool,
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "message": self.message,
        }
        if self.old is not ABSENT:
            data["old"] = self.old
        if self.new is not ABSENT:
            data["new"] = self.new
        return data


def finding(
    rule: Rule,
    *,
    tool: str,
    path: str,
    message: str,
    side: Side | None = None,
    variant: Variant | None = None,
    old: Any = ABSENT,
    new: Any = ABSENT,
) -> Change:
    """A change of the kind ``rule`` (a row of ``RULES``), its severity read from the table for
    ``side`` (``None`` for a tool or the server) or ``variant``."""
    if not is_rule(rule):
        raise TypeError(f"{rule!r} is not a row of sfn_mcp.review.rules.RULES")
    return Change(tool, rule.severity(side, variant), rule.id, path, message, old, new)


SEVERITY_ORDER: Final = {BREAKING: 0, NON_BREAKING: 1}


def change_order(change: Change) -> tuple[str, int, int, str, str, str]:
    """By tool, breaking first, then the tool itself, its metadata, input, output."""
    section = 0 if change.path == "tool" else 1
    if change.path == "input" or change.path.startswith(("input.", "input[", "input<")):
        section = 2
    elif change.path == "output" or change.path.startswith(("output.", "output[", "output<")):
        section = 3
    return (
        change.tool,
        SEVERITY_ORDER[change.severity],
        section,
        change.path,
        change.code,
        change.message,
    )


@dataclass(frozen=True)
class Surface:
    """A loaded ``surface.json``: its tools by name, where it came from, and notes for the reader
    (``exists`` is false for a revision that predates the manifest)."""

    label: str
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    server: str | None = None
    package: str | None = None
    version: str | None = None  # the package's version (surfaces from before it was recorded: None)
    surface: str = "all"  # what tools/list offers (surfaces from before it was recorded: all)
    # action → resources, from surfaces that record them (None: an older surface without them)
    permissions: Mapping[str, tuple[str, ...]] | None = None
    notes: tuple[str, ...] = ()
    exists: bool = True


def parse_surface(data: Any, *, label: str) -> Surface:
    """Check the shape of a decoded ``surface.json`` and index its tools by name."""
    if not isinstance(data, dict) or "surfaceFormat" not in data:
        raise CompileError(
            f"{label} is not an sfn-mcp tool surface (no surfaceFormat)",
            hint="pass the surface.json of a generated package, or its package directory",
        )
    if data["surfaceFormat"] != SURFACE_FORMAT:
        raise CompileError(
            f"{label} has surfaceFormat {data['surfaceFormat']!r}; this sfn-mcp reads format "
            f"{SURFACE_FORMAT}",
            hint="compare with the sfn-mcp version that generated it, or regenerate both sides "
            "with this one",
        )
    hint = "regenerate it with `sfn-mcp generate` instead of editing it by hand"
    raw_tools = data.get("tools", [])
    if not isinstance(raw_tools, list):
        raise CompileError(f"{label}: 'tools' must be a list", hint=hint)
    tools: dict[str, Mapping[str, Any]] = {}
    for index, tool in enumerate(raw_tools):
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str) or not name:
            raise CompileError(f"{label}: tools[{index}] has no name", hint=hint)
        if name in tools:
            raise CompileError(f"{label}: tool {name!r} appears twice", hint=hint)
        tools[name] = tool
    server, package = data.get("server"), data.get("package")
    return Surface(
        label=label,
        tools=tools,
        server=server if isinstance(server, str) else None,
        package=package if isinstance(package, str) else None,
        version=data.get("version") if isinstance(data.get("version"), str) else None,
        surface=str(data["surface"]) if isinstance(data.get("surface"), str) else "all",
        permissions=_permissions(data.get("permissions"), label, hint),
    )


def _permissions(raw: Any, label: str, hint: str) -> dict[str, tuple[str, ...]] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(resources, list) and all(isinstance(r, str) for r in resources)
        for resources in raw.values()
    ):
        raise CompileError(
            f"{label}: 'permissions' must map each IAM action to a list of resources", hint=hint
        )
    return {str(action): tuple(resources) for action, resources in raw.items()}
