"""``sfn-mcp check``: is the committed package what ``generate`` would write now?

Two ways to ask, both read-only:

* against the account (the default): compile in memory from the configured source, exactly as
  ``generate`` would, and compare byte for byte with the committed folder. When they differ, the
  summary is the surface diff (committed ``surface.json`` → the account now: which tools differ, and
  how, breaking first) and the files that differ.
* ``--offline``: no AWS at all. The committed code is imported and its ``tools/list`` compared with
  the committed ``surface.json``, and its ``_runtime.py`` with this sfn-mcp's runtime. That catches
  hand edits and a manifest that was not regenerated with the code, in a pre-commit hook or a CI job
  without AWS credentials; it cannot see changes in the account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .diff import Change, Surface, compare, parse_surface, render_text
from .errors import CompileError
from .pipeline import compile_package
from .render import RUNTIME_SOURCE
from .surface import LISTED_KEYS, MANIFEST, RUN_KEYS, PackageImportError, committed_listing
from .write import read_tree, tree_changes

FIX = "run `sfn-mcp generate`, review the changes above and commit them"


@dataclass(frozen=True)
class CheckResult:
    up_to_date: bool
    report: str
    changes: list[Change] = field(default_factory=list)


def _differing(committed: dict[str, bytes], fresh: dict[str, bytes]) -> list[str]:
    missing, changed, extra = tree_changes(committed, fresh)
    return [
        f"  {label}: {path}"
        for label, paths in (("changed", changed), ("missing", missing), ("extra", extra))
        for path in paths
    ]


def _surface(text: bytes | str | None, label: str) -> Surface:
    if text is None:
        return Surface(label=label, exists=False, notes=(f"{label} has no {MANIFEST} yet",))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CompileError(f"{label} is not valid JSON: {exc}", hint=FIX) from exc
    return parse_surface(data, label=label)


def check_account(settings: Settings) -> CheckResult:
    """Compile from the account in memory and compare with the committed package."""
    target = settings.output / settings.name
    compiled = compile_package(settings)
    committed = read_tree(target) if target.is_dir() else {}
    fresh = {path: text.encode() for path, text in compiled.files.items()}
    tools = len(compiled.package.tools)
    if committed == fresh:
        return CheckResult(True, f"{target} is up to date ({tools} workflow tool(s)).\n")
    old = _surface(committed.get(MANIFEST), f"committed {target.name}/{MANIFEST}")
    new = _surface(compiled.files[MANIFEST], "the account now")
    changes = compare(old, new)
    lines = [f"{target} is stale: the account now compiles to a different package.", ""]
    if changes:
        lines.append(render_text(changes, old=old, new=new).rstrip())
    else:
        lines.append("The tool surface is the same; only generated code differs.")
    lines += ["", "Files that differ:", *_differing(committed, fresh), "", f"To fix: {FIX}."]
    return CheckResult(False, "\n".join(lines) + "\n", changes)


def check_offline(target: Path) -> CheckResult:
    """Without AWS: the committed code against its own manifest and this sfn-mcp's runtime."""
    manifest_path = target / MANIFEST
    if not manifest_path.is_file():
        raise CompileError(
            f"{manifest_path} does not exist",
            hint="generate the package first (sfn-mcp generate), or point --output/--name or "
            "--config at it; --offline checks a committed package",
        )
    recorded = _surface(manifest_path.read_bytes(), f"{target.name}/{MANIFEST}")
    try:
        served = committed_listing(target)
    except PackageImportError as exc:
        return CheckResult(
            False, f"{target}: {exc} (edited by hand, or half-written?).\n\nTo fix: {FIX}.\n"
        )
    tools = {}
    problems = []
    for listed in served.tools:
        name = str(listed["name"])
        entry = dict(recorded.tools.get(name, {"name": name, "stateMachine": None}))
        entry.update({key: listed.get(key) for key in LISTED_KEYS})
        tools[name] = entry
        machine = entry.get("stateMachine") or {}
        runs = served.workflows.get(name, {})
        problems += [
            f"{name}: tools.py says {key} {runs.get(key)!r}, {MANIFEST} says {machine.get(key)!r}"
            for key in RUN_KEYS
            if runs and machine.get(key) != runs.get(key)
        ]
    code = Surface(
        label=f"the code in {target.name}/",
        tools=tools,
        server=recorded.server,
        package=recorded.package,
    )
    changes = compare(recorded, code)
    runtime = target / "_runtime.py"
    if not runtime.is_file() or runtime.read_bytes() != RUNTIME_SOURCE.read_bytes():
        problems.append(
            f"{target.name}/_runtime.py is not this sfn-mcp's runtime (edited by hand, or "
            "generated by another sfn-mcp version)"
        )
    if not changes and not problems:
        count = len(served.workflows)
        return CheckResult(
            True, f"{target}: the code matches its {MANIFEST} ({count} workflow tool(s)).\n"
        )
    lines = [f"{target}: the code does not match its {MANIFEST}.", ""]
    if changes:
        lines.append(render_text(changes, old=recorded, new=code).rstrip())
    lines += [f"- {problem}" for problem in problems]
    lines += ["", f"To fix: {FIX}; never edit the generated files."]
    return CheckResult(False, "\n".join(lines) + "\n", changes)
