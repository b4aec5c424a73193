"""The package's version, decided from the tool surface: what ``pyproject.toml`` and
``surface.json`` say, and what a change of surface requires.

The committed package is the previous release. Against it, a fresh compile is: the same version
when no file changes; the next patch when only generated code changes; the next minor for an
additive surface change (a tool or optional field added, words changed…); the next major for a
breaking one (by the rules table). A package without a version yet starts at 1.0.0. So the same
inputs give the same version (and bytes) on every machine, and a client sees from
``serverInfo.version`` whether a surface changed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from sfn_mcp.pipeline import Compiled
from sfn_mcp.render import PROJECT_FILE, project_file
from sfn_mcp.review.compare import compare
from sfn_mcp.review.surface import Surface, parse_surface
from sfn_mcp.review.versions import VERSION, required
from sfn_mcp.surface import MANIFEST
from sfn_mcp.text import readable_json
from sfn_mcp.write import read_tree

FIRST: Final = "1.0.0"


def committed_version(files: Mapping[str, bytes]) -> str | None:
    """The version a committed package's ``pyproject.toml`` states (None: none, or unreadable)."""
    raw = files.get(PROJECT_FILE)
    if raw is None:
        return None
    try:
        version = tomllib.loads(raw.decode("utf-8"))["project"]["version"]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    return version if isinstance(version, str) and VERSION.match(version) else None


def bumped(version: str, part: str) -> str:
    match = VERSION.match(version)
    if match is None:
        return FIRST
    major, minor, patch = (int(group) for group in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _surface(text: bytes | str | None, label: str) -> Surface | None:
    if text is None:
        return None
    try:
        return parse_surface(json.loads(text), label=label)
    except Exception:  # an unreadable committed surface: treated as no previous release
        return None


def _with_version(manifest: str, version: str) -> str:
    document = json.loads(manifest)
    ordered = {}
    for key, value in document.items():
        ordered[key] = value
        if key == "package":
            ordered["version"] = version
    return readable_json(ordered) + "\n"


def _required_part(committed: bytes | None, fresh: str, previous: str) -> str | None:
    """What the surface change requires of the version; byte-identical surfaces need no
    comparison (which is what takes time on large packages)."""
    if committed == _with_version(fresh, previous).encode():
        return None
    old = _surface(committed, "committed surface.json")
    new = _surface(fresh, "fresh surface.json")
    return required(compare(old, new)) if old and new else "major"


def versioned_files(compiled: Compiled, target: Path) -> dict[str, str]:
    """The compiled files with ``pyproject.toml`` and the version in ``surface.json``, the
    version decided against the package committed at ``target``."""
    committed = read_tree(target) if target.is_dir() else {}
    previous = committed_version(committed)
    files = dict(compiled.files)
    if previous is None:
        version = FIRST
    else:
        part = _required_part(committed.get(MANIFEST), files[MANIFEST], previous)
        if part is None:
            same = _with_version(files[MANIFEST], previous)
            project = project_file(compiled.package, previous)
            candidate = {**files, MANIFEST: same, PROJECT_FILE: project}
            unchanged = {path: text.encode() for path, text in candidate.items()} == committed
            version = previous if unchanged else bumped(previous, "patch")
        else:
            version = bumped(previous, part)
    files[MANIFEST] = _with_version(files[MANIFEST], version)
    files[PROJECT_FILE] = project_file(compiled.package, version)
    return files
