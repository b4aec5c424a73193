"""What the entry says: which package, which command starts it, and with which environment.

The entry, under the client's servers key (the command is chosen in ``launch``)::

    "ai-workflows": {"command": "/abs/uvx",
                     "args": ["--from", "/abs/generated/ai_workflows", "ai-workflows"],
                     "env": {"AWS_PROFILE": "..."}}

- **The package** is the one the sfn-mcp settings name (``[tool.sfn-mcp]`` in
  ``./pyproject.toml``, or ``--config``), unless ``--package-dir`` and ``--name`` say otherwise.
- **An interpreter** (``--launch python``) is ``--python`` or the one running sfn-mcp
  (``sys.executable``), made absolute but not resolved: a virtualenv's ``python`` is a symlink
  whose target would not see the virtualenv's packages. It is run once to check it is Python
  3.11+, finds mcp, pydantic, boto3 and jsonschema, and imports the package from the configured
  folder (not a same-named one elsewhere).
- **PYTHONPATH, not cwd.** The clients do not all support ``cwd``, so with an interpreter the
  folder holding the package goes into ``env`` as ``PYTHONPATH``.
- **AWS settings** come from ``--profile``/``--region``, else ``AWS_PROFILE`` and ``AWS_REGION``
  (or ``AWS_DEFAULT_REGION``) of the calling shell, and are written only when set (``--profile
  ''`` leaves a set one out). The ``[tool.sfn-mcp]`` profile is deliberately not used: it is the
  compiler's, often read-only, profile, while the server needs to start executions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.clients.table import Client
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.settings import load_packages, load_settings

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REQUIRED_MODULES = ("mcp", "pydantic", "boto3", "jsonschema")
MIN_PYTHON = (3, 11)
CHECK_TIMEOUT = 60.0
# Run by the chosen interpreter, with the PYTHONPATH the client will give it.
CHECK_SCRIPT = """
import importlib.util, json, sys
missing = [m for m in sys.argv[2:] if importlib.util.find_spec(m) is None]
spec = importlib.util.find_spec(sys.argv[1])
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "missing": missing,
    "locations": list(spec.submodule_search_locations or []) if spec else None,
}))
"""


@dataclass(frozen=True)
class Package:
    name: str
    folder: Path  # goes on PYTHONPATH


def find_package(
    config_path: Path | None,
    name: str | None,
    package_dir: Path | None,
    cwd: Path,
    package_id: str | None = None,
) -> Package:
    """The generated package, from the project's settings unless flags say otherwise;
    ``package_id``: the one of several ``[tool.sfn-mcp.packages.<id>]`` tables."""
    cli = {"name": name} if name else {}
    if package_id is None:
        settings = load_settings(cli, config_path=config_path, cwd=cwd)
    else:
        settings = load_packages(cli, config_path=config_path, cwd=cwd, only=(package_id,))[0]
    folder = (cwd / package_dir).resolve() if package_dir else settings.output.resolve()
    package = settings.name
    if (
        package_dir is not None
        and (folder / "__main__.py").is_file()
        and not (folder / package / "__main__.py").is_file()
    ):  # --package-dir named the package itself
        if name is not None and name != folder.name:
            raise CompileError(
                f"--package-dir {folder} is the package {folder.name!r}, but --name is {name!r}",
                hint="pass the folder that holds the package, or leave out --name",
            )
        package, folder = folder.name, folder.parent
    main_file = folder / package / "__main__.py"
    if not main_file.is_file():
        source = (
            "--package-dir"
            if package_dir
            else f"the settings in {settings.config_file}"
            if settings.config_file
            else "the defaults (no [tool.sfn-mcp] in ./pyproject.toml)"
        )
        raise CompileError(
            f"no generated package {package!r} in {folder} ({main_file} does not exist; "
            f"folder and name from {source})",
            hint="run `sfn-mcp generate` first, or pass --package-dir (the folder holding the "
            "package) and --name, or --config with the project's settings",
        )
    return Package(package, folder)


def resolve_python(value: str | None) -> Path:
    if value is None:
        if not sys.executable:
            raise CompileError(
                "cannot tell which Python runs sfn-mcp", hint="pass --python /path/to/python"
            )
        candidate = Path(sys.executable)
    elif os.sep in value or (os.altsep and os.altsep in value) or value.startswith("~"):
        candidate = Path(value).expanduser()
    else:
        found = shutil.which(value)
        if found is None:
            raise CompileError(
                f"--python {value}: no such command on PATH", hint="pass the interpreter's path"
            )
        candidate = Path(found)
    # Absolute, symlinks kept: a virtualenv's python is a link to the base interpreter, which
    # would not see the virtualenv's packages.
    python = Path(os.path.abspath(candidate))
    if not python.is_file():
        raise CompileError(f"--python {python}: no such file", hint="pass the interpreter's path")
    return python


def check_python(python: Path, package: Package) -> None:
    """Run ``python`` the way the client will, and check it can serve the package."""
    env = {**os.environ, "PYTHONPATH": str(package.folder)}
    env.pop("PYTHONHOME", None)
    requirements = package.folder / package.name / "requirements.txt"
    install = f"{python} -m pip install -r {requirements}"
    try:
        run = subprocess.run(
            [str(python), "-c", CHECK_SCRIPT, package.name, *REQUIRED_MODULES],
            capture_output=True,
            text=True,
            env=env,
            cwd=package.folder,  # `-c` puts the current folder first on sys.path
            timeout=CHECK_TIMEOUT,
            check=False,
        )
        report = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else None
    except subprocess.TimeoutExpired:
        raise CompileError(
            f"{python} did not answer within {CHECK_TIMEOUT:g} s",
            hint="pass --python with a working Python 3.11+ interpreter",
        ) from None
    except OSError as exc:
        raise CompileError(
            f"cannot run {python}: {exc.strerror or exc}",
            hint="pass --python with a working Python 3.11+ interpreter",
        ) from exc
    except (ValueError, IndexError):
        report = None
    if not isinstance(report, dict):
        detail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise CompileError(
            f"{python} is not a Python interpreter sfn-mcp can use ({detail})",
            hint="pass --python with a working Python 3.11+ interpreter",
        )
    version = tuple(report.get("version") or ())
    if version < MIN_PYTHON:
        raise CompileError(
            f"{python} is Python {'.'.join(map(str, version))}; the server needs "
            f"{'.'.join(map(str, MIN_PYTHON))}+",
            hint="pass --python with a newer interpreter",
        )
    missing = report.get("missing") or []
    if missing:
        raise CompileError(
            f"{python} cannot import {', '.join(missing)}, which the server needs",
            hint=f"install them with: {install} (or pass --python with an interpreter that "
            "has them)",
        )
    locations = [Path(p).resolve() for p in report.get("locations") or []]
    expected = (package.folder / package.name).resolve()
    if expected not in locations:
        where = ", ".join(map(str, locations)) or "nowhere"
        raise CompileError(
            f"{python} imports {package.name} from {where}, not from {expected}",
            hint="another installed module has that name; regenerate the server with another "
            "--name",
        )


def build_env(
    base: dict[str, str], profile: str | None, region: str | None, extra: Sequence[str]
) -> dict[str, str]:
    """The entry's env: what the launch needs (``base``), then AWS settings, then ``--env``."""
    env = dict(base)
    profile = os.environ.get("AWS_PROFILE") if profile is None else profile
    if region is None:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if profile:
        env["AWS_PROFILE"] = profile
    if region:
        env["AWS_REGION"] = region
    given: dict[str, str] = {}
    for pair in extra:
        key, sep, value = pair.partition("=")
        if not sep or not ENV_NAME.match(key):
            raise CompileError(
                f"--env {pair!r}: expected KEY=VALUE with a variable name as KEY",
                hint="e.g. --env SFN_MCP_LOG_LEVEL=DEBUG",
            )
        if key in base:
            raise CompileError(
                f"--env {key}: configure sets it to {base[key]} (the folder holding the package)",
                hint="pass --package-dir to change that folder",
            )
        if key in given and given[key] != value:
            raise CompileError(f"--env {key} is given twice with different values")
        given[key] = value
    env.update(given)
    return env


def build_entry(
    client: Client, command: str, args: Sequence[str], env: dict[str, str]
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "stdio"} if client.stdio_type else {}
    entry.update(command=command, args=list(args), env=env)
    return entry
