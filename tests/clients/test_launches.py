"""The entries ``sfn-mcp configure`` writes actually start the server: each one is run the way
a client runs it (the SDK's stdio client, the entry's command, args and env, a neutral working
folder) and must list the package's tools.

The package is a copy of the committed example (``generated/ai_workflows``, an installable
project of its own). ``sfn-mcp configure`` runs as a subprocess with a scratch HOME and a PATH
that decides the launch:

- every client's file, with an interpreter (``--launch python``): no network, one server start
  per client;
- uvx (the default when uv is on PATH): uv is installed from PyPI into a fresh virtualenv, with
  its cache in a scratch folder, and builds the server's environment from the package's
  ``pyproject.toml``; one server start, since the command is the same for every client;
- the console script of a copy that uv installed into a virtualenv of its own.

The last two need PyPI, so they are marked ``integration`` (``make test`` runs them, ``make
unit`` does not).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from sfn_mcp.clients import CLIENTS
from sfn_mcp.clients.jsonc import strip_jsonc
from tests.helpers import ROOT, SFN_MCP

pytestmark = pytest.mark.anyio

UV_VERSION = "0.13.9"
PACKAGE = "ai_workflows"
SCRIPT = "ai-workflows"
SERVER = "ai-workflows"
SYSTEM_PATH = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())

# Per client: its file under the scratch HOME ("~/...") or the project folder, and how an entry
# looks there.
FILES: dict[str, str] = {
    "claude-desktop": "~/.config/Claude/claude_desktop_config.json",
    "claude-code": "~/.claude.json",
    "cursor": "~/.cursor/mcp.json",
    "vscode": ".vscode/mcp.json",
    "windsurf": "~/.codeium/windsurf/mcp_config.json",
    "gemini": "~/.gemini/settings.json",
    "kiro": "~/.kiro/settings/mcp.json",
    "amazon-q": "~/.aws/amazonq/mcp.json",
}
SERVERS_KEY = {"vscode": "servers"}
STDIO_TYPE = {"vscode", "claude-code"}
COMMENTS_ALLOWED = {"vscode", "gemini"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed example package: ``<tmp>/gen/ai_workflows``."""
    source = ROOT / "generated" / PACKAGE
    assert (source / "pyproject.toml").is_file(), f"{source} has no pyproject.toml"
    target = tmp_path_factory.mktemp("gen") / PACKAGE
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def tool_names(package: Path) -> set[str]:
    surface = json.loads((package / "surface.json").read_text())
    return {tool["name"] for tool in surface["tools"]}


def configure(
    project: Path, home: Path, path: str, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    """``sfn-mcp configure`` as a user runs it, in ``project`` with this HOME and PATH."""
    env = {
        "HOME": str(home),
        "PATH": path,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **({"SYSTEMROOT": os.environ["SYSTEMROOT"]} if "SYSTEMROOT" in os.environ else {}),
    }
    return subprocess.run(
        [str(SFN_MCP), "configure", *map(str, args)],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def read_entry(client: str, file: Path) -> dict[str, Any]:
    """The server's entry in a client's file, checked against that client's format."""
    text = file.read_text()
    if client not in COMMENTS_ALLOWED:
        json.loads(text)  # strict JSON where the client reads it so
    data = json.loads(strip_jsonc(text)[0])
    key = SERVERS_KEY.get(client, "mcpServers")
    assert CLIENTS[client].servers_key == key
    assert list(data) == [key], data
    entry = data[key][SERVER]
    assert isinstance(entry, dict)
    keys = (
        ["type", "command", "args", "env"] if client in STDIO_TYPE else ["command", "args", "env"]
    )
    assert list(entry) == keys, entry
    if client in STDIO_TYPE:
        assert entry["type"] == "stdio"
    assert isinstance(entry["command"], str) and os.path.isabs(entry["command"])
    assert all(isinstance(a, str) for a in entry["args"])
    assert all(isinstance(v, str) for v in entry["env"].values())
    return entry


def client_files(project: Path, home: Path) -> dict[str, Path]:
    return {
        client: home / where[2:] if where.startswith("~/") else project / where
        for client, where in FILES.items()
    }


async def listed_tools(entry: dict[str, Any], cwd: Path, extra: dict[str, str]) -> set[str]:
    """Start the entry as a client does and list its tools."""
    params = StdioServerParameters(
        command=entry["command"],
        args=entry["args"],
        env={**entry["env"], **extra},  # on top of the SDK's default environment
        cwd=str(cwd),
    )
    with open(cwd / "server-stderr.log", "a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.list_tools()
    return {tool.name for tool in result.tools}


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A project folder, a HOME and a neutral folder for the servers to start in."""
    folders = tuple(tmp_path / name for name in ("project", "home", "elsewhere"))
    for folder in folders:
        folder.mkdir()
    (folders[2] / "server-stderr.log").touch()
    return folders  # type: ignore[return-value]


async def test_every_clients_entry_starts_the_server_with_an_interpreter(
    package: Path, scratch: tuple[Path, Path, Path]
) -> None:
    project, home, elsewhere = scratch
    clients = [arg for client in FILES for arg in ("--client", client)]
    result = configure(
        project, home, SYSTEM_PATH, *clients, "--package-dir", package, "--launch", "python"
    )
    assert result.returncode == 0, result.stderr
    assert set(FILES) == set(CLIENTS)

    for client, file in client_files(project, home).items():
        entry = read_entry(client, file)
        assert entry["command"] == os.path.abspath(sys.executable)
        assert entry["args"] == ["-m", PACKAGE]
        assert entry["env"] == {"PYTHONPATH": str(package.parent)}
        listed = await listed_tools(entry, elsewhere, {})
        assert listed == tool_names(package), (
            client,
            (elsewhere / "server-stderr.log").read_text(),
        )


@pytest.fixture(scope="module")
def uv_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a fresh virtualenv with uv installed from PyPI."""
    venv = tmp_path_factory.mktemp("uv-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, f"installing uv from PyPI failed:\n{install.stderr}"
    yield bin_dir


@pytest.fixture(scope="module")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


def network_env() -> dict[str, str]:
    """This machine's certificate and proxy settings, which uv needs to reach PyPI (a client
    passes the user's environment; the SDK's stdio client passes only a safe few)."""
    names = ("SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    return {
        key: value
        for key, value in os.environ.items()
        if key.upper() in names or key.startswith("UV_")
    }


def only_uv(uv_bin: Path, folder: Path) -> Path:
    """A bin folder holding just uv and uvx (not the virtualenv's python and pip)."""
    folder.mkdir()
    for name in ("uv", "uvx"):
        (folder / name).symlink_to(uv_bin / name)
    return folder


@pytest.mark.integration
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
async def test_the_uvx_entry_starts_the_server_from_its_own_environment(
    package: Path,
    scratch: tuple[Path, Path, Path],
    uv_bin: Path,
    uv_cache: Path,
    tmp_path: Path,
) -> None:
    project, home, elsewhere = scratch
    uv_only = only_uv(uv_bin, tmp_path / "uv-only")
    path = os.pathsep.join([str(uv_only), SYSTEM_PATH])
    clients = [arg for client in FILES for arg in ("--client", client)]

    result = configure(project, home, path, *clients, "--package-dir", package, "--profile", "p")

    assert result.returncode == 0, result.stderr
    assert "launch (uvx): " in result.stderr
    assert "warning" not in result.stderr, result.stderr
    entries = {c: read_entry(c, f) for c, f in client_files(project, home).items()}
    for client, entry in entries.items():
        assert entry["command"] == str(uv_only / "uvx"), client
        assert entry["args"] == ["--from", str(package), SCRIPT], client
        assert entry["env"] == {"AWS_PROFILE": "p"}, client
    # one start for all: the command is the same in every client's file
    extra = {**network_env(), "UV_CACHE_DIR": str(uv_cache)}
    listed = await listed_tools(entries["claude-code"], elsewhere, extra)
    assert listed == tool_names(package), (elsewhere / "server-stderr.log").read_text()


@pytest.mark.integration
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
async def test_the_script_entry_starts_the_installed_server(
    package: Path,
    scratch: tuple[Path, Path, Path],
    uv_bin: Path,
    uv_cache: Path,
    tmp_path: Path,
) -> None:
    project, home, elsewhere = scratch
    env = {**os.environ, "UV_CACHE_DIR": str(uv_cache)}
    venv = tmp_path / "server-env"
    for command in (
        [str(uv_bin / "uv"), "venv", "--quiet", str(venv)],
        [str(uv_bin / "uv"), "pip", "install", "--quiet", "--python", str(venv), str(package)],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    path = os.pathsep.join([str(venv / "bin"), SYSTEM_PATH])  # no uvx: the script is next

    result = configure(
        project, home, path, "--client", "windsurf", "--package-dir", package, "--launch", "script"
    )

    assert result.returncode == 0, result.stderr
    assert "launch (script): " in result.stderr
    assert "warning" not in result.stderr, result.stderr  # the installed copy is this package
    entry = read_entry("windsurf", client_files(project, home)["windsurf"])
    assert entry == {"command": str(venv / "bin" / SCRIPT), "args": [], "env": {}}
    listed = await listed_tools(entry, elsewhere, {})
    assert listed == tool_names(package), (elsewhere / "server-stderr.log").read_text()
