"""Loading a surface to review: from a ``surface.json`` file, a package directory, or a git
revision.

Where a surface comes from (``load_surface(spec, manifest_path=...)``):

- an existing file is read as ``surface.json``; an existing directory must contain one (the output
  folder holding one package is as good as the package). A spec that is both an existing path and
  a revision name is the path (``./main`` and ``main^{commit}`` are unambiguous spellings of each);
- anything else is a git revision: ``git show REV:./<manifest>``, run in the manifest's directory
  (or its nearest existing parent), so it works from any folder of the checkout. A revision that
  exists but has no manifest yet is an empty surface with a note, so the pull request that first
  commits the surface lists every tool as added instead of failing. An unknown revision, a folder
  outside any git repository, invalid JSON or an unknown ``surfaceFormat`` is a ``CompileError``.

``load_working_tree`` reads the manifest of the checkout (NEW when the command gets only OLD) and
``default_manifest`` says where it is from the settings.

With ``[tool.sfn-mcp.packages.<id>]`` tables, ``package_pairs`` gives one pair of surfaces per
package: its manifest at the revision (where the configuration at that revision put it) and in
the working tree (or at a second revision); a package configured on one side only is compared
with a surface without tools, and said to be added or removed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.surface import Surface, parse_surface
from sfn_mcp.settings import Settings, find_config, load_packages, load_settings
from sfn_mcp.surface import MANIFEST

MANIFEST_NAME: Final = MANIFEST
GIT_TIMEOUT_SECONDS: Final = 60


def _decode(content: bytes, label: str) -> Surface:
    hint = "regenerate it with `sfn-mcp generate` (and resolve any merge conflict in it)"
    try:
        data = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CompileError(f"{label} is not UTF-8 text: {exc}", hint=hint) from exc
    except json.JSONDecodeError as exc:
        raise CompileError(f"{label} is not valid JSON: {exc}", hint=hint) from exc
    return parse_surface(data, label=label)


def _load_path(path: Path, label: str) -> Surface:
    if path.is_dir():
        # the output folder (generated/) holding one package is as good as the package
        inner = sorted(path.glob(f"*/{MANIFEST_NAME}"))
        if not (path / MANIFEST_NAME).is_file() and len(inner) == 1:
            path, label = inner[0].parent, str(Path(label) / inner[0].parent.name)
        if not (path / MANIFEST_NAME).is_file():
            raise CompileError(
                f"{label} is a directory without {MANIFEST_NAME}",
                hint="pass a generated package directory, or regenerate it with `sfn-mcp "
                "generate` (packages from older versions have no surface)",
            )
        path = path / MANIFEST_NAME
        label = str(Path(label) / MANIFEST_NAME)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CompileError(f"cannot read {label}: {exc.strerror}") from exc
    return _decode(content, label)


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CompileError(
            "git is not installed (or not on PATH), so revisions cannot be read",
            hint="install git, or pass surface.json files or package directories",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CompileError(f"git {' '.join(args)} took over {GIT_TIMEOUT_SECONDS} s") from exc


def _first_line(stream: bytes) -> str:
    lines = stream.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"


def _load_revision(rev: str, manifest_path: Path) -> Surface:
    manifest = (Path.cwd() / manifest_path).resolve()
    run_dir = manifest.parent
    while not run_dir.is_dir():
        run_dir = run_dir.parent
    toplevel = _git(["rev-parse", "--show-toplevel"], run_dir)
    if toplevel.returncode != 0:
        raise CompileError(
            f"{rev!r} is not an existing file or directory, and {run_dir} is not in a git "
            f"repository, so it cannot be a revision either ({_first_line(toplevel.stderr)})",
            hint="pass a surface.json file or a package directory, or run inside the repository "
            "that holds the manifest",
        )
    root = Path(toplevel.stdout.decode("utf-8", "replace").strip()).resolve()
    if not manifest.is_relative_to(root):
        raise CompileError(
            f"the manifest {manifest} is outside the git repository {root}",
            hint="pass --manifest with a path inside the repository",
        )
    in_repo = manifest.relative_to(root).as_posix()
    label = f"{rev}:{in_repo}"
    commit = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], root
    )
    if commit.returncode != 0:
        raise CompileError(
            f"{rev!r} is neither an existing file or directory nor a revision of {root}",
            hint="pass a surface.json file, a package directory, or a git revision (a branch, a "
            "tag, a commit, HEAD~1); in CI, fetch it first (actions/checkout with "
            "fetch-depth: 0, or `git fetch origin main`)",
        )
    relative = manifest.relative_to(run_dir).as_posix()
    object_name = f"{rev}:./{relative}"
    kind = _git(["cat-file", "-t", object_name], run_dir)
    if kind.returncode != 0:
        note = f"{rev} has no {in_repo} yet: it counts as a surface without tools"
        return Surface(label=label, notes=(note,), exists=False)
    if kind.stdout.strip() != b"blob":
        raise CompileError(f"{label} is a {kind.stdout.decode().strip()}, not a file")
    shown = _git(["show", object_name], run_dir)
    if shown.returncode != 0:
        raise CompileError(f"git show {object_name} failed: {_first_line(shown.stderr)}")
    return _decode(shown.stdout, label)


def load_surface(spec: str, *, manifest_path: Path) -> Surface:
    """Load a surface from ``spec``: a ``surface.json`` file, a package directory containing one,
    or a git revision, at which ``manifest_path`` (relative to the current directory, or absolute)
    is read with ``git show REV:./<path>``. An existing path wins over a revision of the same name.
    A revision without the manifest gives an empty surface with a note (``exists`` false)."""
    if not spec:
        raise CompileError("an empty surface specification", hint="pass a file, folder or revision")
    if os.path.lexists(spec):
        return _load_path(Path(spec), spec)
    if spec.startswith("-"):
        raise CompileError(f"{spec!r} is not a file, a folder or a revision")
    return _load_revision(spec, manifest_path)


def load_working_tree(manifest_path: Path) -> Surface:
    """The manifest as it is in the working tree (NEW when the command gets only OLD)."""
    if not manifest_path.is_file():
        raise CompileError(
            f"{manifest_path} does not exist",
            hint="run `sfn-mcp generate` first, or pass NEW (a file, folder or revision)",
        )
    return _load_path(manifest_path, f"{manifest_path} (working tree)")


def default_manifest(config_path: Path | None) -> Path:
    """Where the manifest lives: ``<output>/<name>/surface.json`` from the settings."""
    settings = load_settings({}, config_path=config_path)
    return settings.output / settings.name / MANIFEST_NAME


def display_path(path: Path) -> Path:
    """``path`` relative to the current directory when it is inside it (for messages)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


@dataclass(frozen=True)
class PackagePair:
    """One package's surfaces to compare; ``status``: "added" (not configured at OLD), "removed"
    (no longer configured) or "both"."""

    package: str
    old: Surface
    new: Surface
    status: str


def _configured(config: Path | None, only: Sequence[str]) -> list[Settings] | None:
    packages = load_packages({}, config_path=config, only=only)
    return packages if any(p.package for p in packages) else None


def _at_revision(rev: str, config: Path, fallback: list[Settings]) -> list[Settings]:
    """The packages the configuration file configured at ``rev`` (the current ones, with a note
    in their labels, when it cannot be read there)."""
    shown = _git(["show", f"{rev}:./{config.name}"], config.parent)
    if shown.returncode != 0:
        return fallback
    try:
        return load_packages({}, config_path=config, text=shown.stdout.decode("utf-8", "replace"))
    except CompileError:
        return fallback


def package_pairs(
    old: str, new: str | None, *, config_path: Path | None, only: Sequence[str] = ()
) -> list[PackagePair] | None:
    """Per configured package, its surface at revision ``old`` and in the working tree (or at
    revision ``new``); None when the configuration has no package tables (the one-manifest
    form applies)."""
    config = config_path or find_config(Path.cwd())
    now = _configured(config, only) if config else None
    if now is None or config is None:
        return None
    config = config.resolve()
    before = [p for p in _at_revision(old, config, now) if not only or p.package in only]
    after = now if new is None else _at_revision(new, config, now)
    after = [p for p in after if not only or p.package in only]
    folders = {p.folder: str(p.package) for p in after}
    # a configuration of one package at OLD: the package now written where it was, or its name
    olds = {str(p.package or folders.get(p.folder, p.name)): p for p in before}
    news = {str(p.package): p for p in after}
    pairs = []
    for package in [*news, *(p for p in olds if p not in news)]:
        was, now_is = olds.get(package), news.get(package)
        if was is None:
            label = f"{old}: package {package} (not configured)"
            note = f"package {package} is not configured at {old}: every tool is added"
            old_surface = Surface(label=label, notes=(note,), exists=False)
        else:
            old_surface = load_surface(old, manifest_path=was.folder / MANIFEST_NAME)
        if now_is is None:
            where = new or "the working tree"
            label = f"{where}: package {package} (not configured)"
            note = f"package {package} is no longer configured in {where}: every tool is removed"
            new_surface = Surface(label=label, notes=(note,), exists=False)
        elif new is None:
            new_surface = load_working_tree(display_path(now_is.folder / MANIFEST_NAME))
        else:
            new_surface = load_surface(new, manifest_path=now_is.folder / MANIFEST_NAME)
        status = "added" if was is None else "removed" if now_is is None else "both"
        pairs.append(PackagePair(package, old_surface, new_surface, status))
    return pairs
