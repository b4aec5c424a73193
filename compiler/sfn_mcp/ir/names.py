"""Tool names: one valid, unique and stable name per machine, whatever the account holds.

A machine's name is, in order: the configured ``tool-name``, the ``mcp:tool-name`` tag, or one
derived from the machine's name (prefix stripped, snake_case, transliterated to ASCII, at most 64
characters; see ``sfn_mcp.naming``). Two explicit names that meet are an error naming both, since
only the user can choose between them. Derived names that meet are all kept, made distinct with a
short hash of the machine's full name, and named in one warning per group. Nothing depends on
the order AWS lists machines in: every machine keeps the name it had in the committed package
(``previous``: state machine ARN → tool name), so neither a new colliding machine nor a deleted
one renames a tool; of the rest, the one whose name sorts first takes the plain name if free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.ir.tags import TOOL_NAME_TAG, Tagged
from sfn_mcp.naming import MAX_TOOL_NAME, tool_name
from sfn_mcp.read.records import MachineSource
from sfn_mcp.settings import Settings, WorkflowSettings
from sfn_mcp_runtime.contract import SERVER_TOOLS

OVERRIDE_HINT = 'set tool-name under [tool.sfn-mcp.workflows."<machine>"] or the tag mcp:tool-name'


def _digest(machine: MachineSource) -> str:
    return hashlib.sha256(machine.name.encode()).hexdigest()[:8]


def with_hash(base: str, machine: MachineSource) -> str:
    """``base`` made distinct by a short stable hash of the machine's full name."""
    suffix = f"_{_digest(machine)}"
    return f"{base[: MAX_TOOL_NAME - len(suffix)].rstrip('_')}{suffix}"


def tool_names(
    machines: list[MachineSource],
    settings: Settings,
    tagged: Mapping[str, Tagged],
    previous: Mapping[str, str],
    diagnostics: Diagnostics,
) -> dict[str, str]:
    """Tool name by machine name. Machines whose explicit names collide are left out (each with
    an error)."""
    names: dict[str, str] = {}
    explicit: dict[str, list[tuple[MachineSource, str]]] = {}
    for machine in machines:
        configured = settings.workflows.get(machine.name, WorkflowSettings()).tool_name
        source = "tool-name" if configured else TOOL_NAME_TAG
        name = configured or tagged[machine.name].tool_name
        if name:
            explicit.setdefault(name, []).append((machine, source))
    for name, owners in sorted(explicit.items()):
        if name in SERVER_TOOLS:
            for machine, source in owners:
                diagnostics.error(
                    f"state machine {machine.name!r}: {source} {name!r} is the name of one of "
                    f"the server's own tools ({', '.join(sorted(SERVER_TOOLS))})",
                    hint=OVERRIDE_HINT,
                )
        elif len(owners) > 1:
            listed = " and ".join(f"{m.name!r} ({source})" for m, source in owners)
            diagnostics.error(
                f"state machines {listed} are both given the tool name {name!r}",
                hint="give each its own name",
            )
        else:
            names[owners[0][0].name] = name
    taken = set(explicit)
    groups: dict[str, list[MachineSource]] = {}
    for machine in machines:
        if any(machine is m for owners in explicit.values() for m, _ in owners):
            continue
        base = tool_name(machine.name, settings.prefix)
        if not base:
            base = with_hash("workflow", machine)
            diagnostics.warning(
                f"state machine {machine.name!r} leaves no letters or digits for a tool name "
                f"once the prefix {settings.prefix!r} is stripped and it is written in ASCII; "
                f"its tool is {base!r}",
                hint=OVERRIDE_HINT,
            )
        groups.setdefault(base, []).append(machine)
    used = set(names.values())
    for base, members in sorted(groups.items()):
        reserved = base in taken or base in SERVER_TOOLS
        ordered = sorted(members, key=lambda m: m.name)
        # A machine keeps the name it had in the committed package, if it is still one of its
        # own (the plain name or its hashed one): a rename would break every client.
        for machine in ordered:
            had = previous.get(machine.arn)
            plain_ok = had == base and not reserved
            if (plain_ok or had == with_hash(base, machine)) and had not in used:
                names[machine.name] = str(had)
                used.add(str(had))
        rest = [m for m in ordered if m.name not in names]
        keeper = rest[0] if rest and not reserved and base not in used else None
        if keeper is not None:
            names[keeper.name] = base
            used.add(base)
        renamed = []
        for machine in rest:
            if machine is not keeper:
                names[machine.name] = with_hash(base, machine)
                used.add(names[machine.name])
                renamed.append(f"{machine.name!r} → {names[machine.name]!r}")
        if not renamed:
            continue
        listed = ", ".join(repr(m.name) for m in ordered)
        holder = next((m for m in ordered if names[m.name] == base), None)
        if holder is None:
            why = f"{listed} would become {base!r}, the name of another tool"
        else:
            why = f"state machines {listed} all become {base!r}; {holder.name!r} keeps it"
        diagnostics.warning(
            f"{why}: {', '.join(renamed)}",
            hint=f"to choose other names, {OVERRIDE_HINT}",
        )
    return names
