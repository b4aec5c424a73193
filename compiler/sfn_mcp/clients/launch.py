"""How the client starts the server: a command that outlives sfn-mcp's own installation.

sfn-mcp is itself installed with pipx, ``uv tool`` or ``uvx``, each of which owns its
environment: pipx and uv replace it on every reinstall or upgrade, and ``uv cache clean`` deletes
what ``uvx`` built. An entry that runs sfn-mcp's interpreter therefore breaks for reasons that
have nothing to do with the server. Every generated package is a Python project of its own
(``<package>/pyproject.toml``, console script ``<package with - for _>``), so the entry starts
that instead, in this order of preference (``--launch`` picks one; the first that applies is the
default):

- **uvx** (``uvx --from <package folder> <script>``): uv builds an environment for the server
  from its own ``pyproject.toml``, with its own requirements, and rebuilds it when it is gone; it
  depends on nothing but uv and the package folder. The default when ``uvx`` (or ``uv``) is on
  ``PATH`` and the package has a ``pyproject.toml``. The first start downloads the server's
  requirements; uv rebuilds the environment when ``pyproject.toml`` changes, and ``generate``
  moves its version with every change of the package's files.
- **script**: the package's console script, when an environment on ``PATH`` has it installed
  (``pip install``, ``pipx install`` or ``uv tool install`` of the package folder); it runs the
  copy installed there, so a regenerated package must be installed again (a copy that differs
  from the package folder is warned about).
- **python** (``<python> -m <package>`` with the package's parent folder as ``PYTHONPATH``): an
  interpreter that has the server's requirements, ``--python`` or else the one running sfn-mcp
  (what earlier versions always wrote); it runs the package folder as it is.

Whichever is chosen, an executable that lives where an installer or a cache clean removes it
(sfn-mcp's own virtualenv, pipx's or uv's tool environments, uv's cache) is warned about, with
what to do instead. Commands are written as absolute paths, not resolved (a virtualenv's
``python`` and Homebrew's ``uvx`` are links whose targets move), because GUI clients do not see
the shell's ``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfn_mcp.clients.entry import Package, check_python, resolve_python
from sfn_mcp.diagnostics import CompileError, Diagnostic

LAUNCHES = ("uvx", "script", "python")
SERVER_MODULES = ("tools.py", "surface.json")  # what an installed copy must match
PROBE_TIMEOUT = 60.0
# Where the interpreter behind a console script imports the package from (``-I``: no
# PYTHONPATH, no current folder, no user site).
LOCATE_SCRIPT = """
import importlib.util, json, sys
spec = importlib.util.find_spec(sys.argv[1])
print(json.dumps(list(spec.submodule_search_locations or []) if spec else None))
"""
SHEBANG_EXEC = re.compile(r"""^'''exec' '?"?([^"'\n]+)"?'? "\$0" "\$@"$""", re.MULTILINE)


@dataclass(frozen=True)
class Project:
    """What the package's ``pyproject.toml`` says: its distribution and console script."""

    path: Path
    distribution: str
    script: str | None


@dataclass(frozen=True)
class Launch:
    kind: str  # one of LAUNCHES
    command: str
    args: tuple[str, ...]
    env: dict[str, str]  # what this launch needs in the entry's env (PYTHONPATH for python)
    why: str  # one line for the user: what runs and why it lasts
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_project(package: Package) -> Project | None:
    """The package's project metadata, None when it has no ``pyproject.toml``."""
    path = package.folder / package.name / "pyproject.toml"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CompileError(
            f"cannot read {path}: {exc}", hint="regenerate the package with `sfn-mcp generate`"
        ) from exc
    project = _table(data.get("project"))
    scripts = _table(project.get("scripts"))
    target = f"{package.name}.server:main"
    named = [name for name, value in scripts.items() if str(value).strip() == target]
    script = named[0] if named else next(iter(scripts)) if len(scripts) == 1 else None
    distribution = str(project.get("name") or package.name.replace("_", "-"))
    return Project(path, distribution, script)


def _is_within(path: Path, folder: Path) -> bool:
    candidate = Path(os.path.abspath(path))
    return any(
        candidate.is_relative_to(root) for root in {Path(os.path.abspath(folder)), folder.resolve()}
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "")
    return Path(value).expanduser() if value else None


def _throwaway_places() -> list[tuple[Path, str, str]]:
    """(folder, what it is, what deletes it) for each place an installer or a cache owns."""
    home = Path.home()
    data_home = _env_path("XDG_DATA_HOME") or home / ".local" / "share"
    cache_home = _env_path("XDG_CACHE_HOME") or home / ".cache"
    places: list[tuple[Path, str, str]] = []
    if sys.prefix != sys.base_prefix:
        places.append(
            (
                Path(sys.prefix),
                "the virtualenv sfn-mcp itself runs in",
                "reinstalling, upgrading or removing sfn-mcp replaces or deletes it",
            )
        )
    pipx = [_env_path("PIPX_HOME")] if os.environ.get("PIPX_HOME") else []
    pipx += [home / ".local" / "pipx", data_home / "pipx"]
    if sys.platform == "darwin":
        pipx.append(home / "Library" / "Application Support" / "pipx")
    local_app = _env_path("LOCALAPPDATA")
    app = _env_path("APPDATA")
    if sys.platform == "win32":
        pipx += [home / "pipx", *([local_app / "pipx"] if local_app else [])]
    for folder in pipx:
        if folder is not None:
            places.append(
                (
                    folder,
                    "pipx's folder of tool environments",
                    "`pipx reinstall`, `pipx upgrade` or `pipx uninstall` replaces or deletes it",
                )
            )
    tools = [_env_path("UV_TOOL_DIR") or data_home / "uv" / "tools"]
    caches = [_env_path("UV_CACHE_DIR") or cache_home / "uv"]
    if sys.platform == "win32":
        tools += [app / "uv" / "data" / "tools"] if app else []
        caches += [local_app / "uv" / "cache"] if local_app else []
    for folder in tools:
        places.append(
            (
                folder,
                "uv's folder of tool environments",
                "`uv tool install --reinstall`, `uv tool upgrade` or `uv tool uninstall` replaces "
                "or deletes it",
            )
        )
    for folder in caches:
        places.append(
            (
                folder,
                "uv's cache",
                "`uv cache clean` or `uv cache prune` deletes the environments uvx builds there",
            )
        )
    return places


def throwaway_warning(executable: Path, role: str, instead: str) -> Diagnostic | None:
    """A warning when ``executable`` lives where an installer or a cache clean removes it."""
    for folder, what, deletes in _throwaway_places():
        if _is_within(executable, folder):
            return Diagnostic(
                "warning",
                f"the {role} {executable} lives in {what} ({folder}); {deletes}, and the client "
                "can then no longer start the server",
                hint=instead,
            )
    return None


def _install_hint(package: Package) -> str:
    folder = package.folder / package.name
    return (
        f"install uv (https://docs.astral.sh/uv/) and rerun without --launch/--python, or "
        f"install the server into an environment of its own (`pipx install {folder}`, "
        f"`uv tool install {folder}`) and pass --launch script"
    )


def _need_project(package: Package, launch: str) -> Project:
    project = read_project(package)
    folder = package.folder / package.name
    if project is None:
        raise CompileError(
            f"--launch {launch} needs {folder / 'pyproject.toml'}, which this package does not "
            "have (it was generated by an earlier sfn-mcp)",
            hint="regenerate it with `sfn-mcp generate`, or pass --launch python",
        )
    if project.script is None:
        raise CompileError(
            f"{project.path} names no console script running {package.name}.server:main",
            hint="regenerate the package with `sfn-mcp generate`, or pass --launch python",
        )
    return project


def _uvx(package: Package, project: Project) -> Launch:
    folder = package.folder / package.name
    assert project.script is not None
    uvx = shutil.which("uvx")
    uv = None if uvx else shutil.which("uv")
    if uvx is None and uv is None:
        raise CompileError(
            "--launch uvx: neither uvx nor uv is on PATH",
            hint="install uv (https://docs.astral.sh/uv/getting-started/installation/), or pass "
            "--launch script or --launch python",
        )
    command = Path(os.path.abspath(uvx or uv or ""))
    args: tuple[str, ...] = ("--from", str(folder), project.script)
    if uv is not None:
        args = ("tool", "run", *args)
    notes: list[Diagnostic] = []
    warning = throwaway_warning(
        command,
        "uv executable",
        "install uv on its own (its standalone installer, `pipx install uv`, or your package "
        "manager) and run configure again",
    )
    if warning:
        notes.append(warning)
    why = (
        f"uv builds the server's own environment from {project.path} (the first start "
        "downloads its requirements); it does not depend on sfn-mcp's installation"
    )
    return Launch("uvx", str(command), args, {}, why, tuple(notes))


def _shebang_python(script: Path) -> Path | None:
    """The interpreter a console script runs (POSIX scripts, as pip and uv write them)."""
    try:
        with open(script, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    first = head.splitlines()[0] if head else ""
    if not first.startswith("#!"):
        return None
    match = SHEBANG_EXEC.search(head) if first.strip() == "#!/bin/sh" else None
    interpreter = match.group(1) if match else first[2:].strip().split(" ")[0]
    return Path(interpreter) if os.path.isabs(interpreter) else None


def _installed_copy(python: Path, package: Package) -> Path | None:
    """Where ``python`` imports the package from, isolated from PYTHONPATH and the cwd."""
    try:
        run = subprocess.run(
            [str(python), "-I", "-c", LOCATE_SCRIPT, package.name],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
        locations = json.loads(run.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return Path(locations[0]) if isinstance(locations, list) and locations else None


def _script(package: Package, project: Project) -> Launch:
    assert project.script is not None
    folder = package.folder / package.name
    found = shutil.which(project.script)
    if found is None:
        raise CompileError(
            f"--launch script: no {project.script} on PATH (the server's console script)",
            hint=f"install the server first (`pipx install {folder}`, `uv tool install "
            f"{folder}`, or `pip install {folder}` into a virtualenv whose bin is on PATH), or "
            "pass --launch uvx or --launch python",
        )
    command = Path(os.path.abspath(found))
    notes: list[Diagnostic] = []
    warning = throwaway_warning(command, "console script", _install_hint(package))
    if warning:
        notes.append(warning)
    python = _shebang_python(command)
    copy = _installed_copy(python, package) if python else None
    if copy is not None and copy.resolve() != folder.resolve():
        differs = [
            name
            for name in SERVER_MODULES
            if (folder / name).is_file()
            and (
                not (copy / name).is_file()
                or (copy / name).read_bytes() != (folder / name).read_bytes()
            )
        ]
        if differs:
            notes.append(
                Diagnostic(
                    "warning",
                    f"{command} runs the copy of {package.name} installed in {copy}, whose "
                    f"{' and '.join(differs)} differ from {folder}",
                    hint=f"reinstall it (`{python} -m pip install --force-reinstall {folder}`, "
                    f"`pipx install --force {folder}` or `uv tool install --reinstall {folder}`)",
                )
            )
    why = f"{command} runs the server installed in its own environment"
    return Launch("script", str(command), (), {}, why, tuple(notes))


def _python(package: Package, python: str | None, fallback: str = "") -> Launch:
    interpreter = resolve_python(python)
    check_python(interpreter, package)
    notes: list[Diagnostic] = []
    warning = throwaway_warning(interpreter, "interpreter", _install_hint(package))
    if warning:
        notes.append(warning)
    why = f"{interpreter} runs the package folder {package.folder / package.name} as it is" + (
        f" ({fallback})" if fallback else ""
    )
    env = {"PYTHONPATH": str(package.folder)}
    return Launch("python", str(interpreter), ("-m", package.name), env, why, tuple(notes))


def choose_launch(launch: str | None, python: str | None, package: Package) -> Launch:
    """The command for the entry: ``launch`` if given, else the first of uvx, script, python
    that applies (``--python`` means python)."""
    if python is not None and launch not in (None, "python"):
        raise CompileError(
            f"--python goes with --launch python, not --launch {launch}",
            hint="leave out one of them",
        )
    if launch is None:
        if python is not None:
            launch = "python"
        else:
            project = read_project(package)
            script = project.script if project else None
            if script and (shutil.which("uvx") or shutil.which("uv")):
                launch = "uvx"
            elif script and shutil.which(script):
                launch = "script"
            else:
                fallback = (
                    f"neither uvx, uv nor {script} is on PATH"
                    if script
                    else f"{package.folder / package.name} has no pyproject.toml with a "
                    "console script"
                )
                return _python(package, None, fallback)
    if launch == "uvx":
        return _uvx(package, _need_project(package, launch))
    if launch == "script":
        return _script(package, _need_project(package, launch))
    if launch == "python":
        return _python(package, python)
    raise CompileError(f"--launch {launch}: expected one of {', '.join(LAUNCHES)}")
