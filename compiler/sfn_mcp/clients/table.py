"""The MCP clients sfn-mcp configures: where each keeps its servers, and how it wants them.

- **Clients and files.** Claude Desktop (``claude_desktop_config.json`` in the platform's
  application-data folder, user only), Cursor (``~/.cursor/mcp.json`` or ``.cursor/mcp.json``),
  VS Code (``.vscode/mcp.json``, project only, key ``servers`` and ``"type": "stdio"``), Kiro
  (``~/.kiro/settings/mcp.json`` or ``.kiro/settings/mcp.json``) and Amazon Q Developer
  (``~/.aws/amazonq/mcp.json`` or ``.amazonq/mcp.json``). ``--file`` overrides the location.
- **User scope by default** where a client has both: the entry holds absolute paths of this
  machine (the interpreter, the package folder), which do not belong in a file a team commits.
  Project files are written under the current folder.
- **JSONC** only for VS Code, which reads ``mcp.json`` as JSON with comments and trailing commas;
  the others' files must be strict JSON (see ``plan``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sfn_mcp.diagnostics import CompileError


def _home() -> Path:
    return Path.home()


def _claude_desktop_file() -> Path:
    if sys.platform == "darwin":
        base = _home() / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or _home() / "AppData" / "Roaming")
    else:  # Linux builds keep Electron's appData: $XDG_CONFIG_HOME, else ~/.config
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else _home() / ".config"
    return base / "Claude" / "claude_desktop_config.json"


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    servers_key: str
    user_file: Callable[[], Path] | None
    project_file: str | None  # relative to the current folder
    default_scope: str
    reload: str  # what to do so the client picks the entry up; {server} is replaced
    jsonc: bool = False  # the client reads the file as JSON with comments
    stdio_type: bool = False  # entries say "type": "stdio"

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(
            scope
            for scope, where in (("user", self.user_file), ("project", self.project_file))
            if where
        )

    def file(self, scope: str, cwd: Path) -> Path:
        if scope == "user" and self.user_file:
            return self.user_file()
        if scope == "project" and self.project_file:
            return cwd / self.project_file
        raise CompileError(
            f"{self.label} has no {scope} configuration file (it has: {', '.join(self.scopes)})",
            hint=f"leave out --scope, or configure {self.key} in a separate run",
        )


CLIENTS: dict[str, Client] = {
    client.key: client
    for client in (
        Client(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            _claude_desktop_file,
            None,
            "user",
            "quit Claude Desktop completely (not just its window) and reopen it",
        ),
        Client(
            "cursor",
            "Cursor",
            "mcpServers",
            lambda: _home() / ".cursor" / "mcp.json",
            ".cursor/mcp.json",
            "user",
            "restart Cursor, then check that {server} is on in its MCP settings",
        ),
        Client(
            "vscode",
            "VS Code",
            "servers",
            None,
            ".vscode/mcp.json",
            "project",
            "in VS Code run 'MCP: List Servers' and start {server} "
            "(or click Start above it in mcp.json)",
            jsonc=True,
            stdio_type=True,
        ),
        Client(
            "kiro",
            "Kiro",
            "mcpServers",
            lambda: _home() / ".kiro" / "settings" / "mcp.json",
            ".kiro/settings/mcp.json",
            "user",
            "check {server} in the MCP servers view of the Kiro panel (restart Kiro if it is "
            "missing)",
        ),
        Client(
            "amazon-q",
            "Amazon Q Developer",
            "mcpServers",
            lambda: _home() / ".aws" / "amazonq" / "mcp.json",
            ".amazonq/mcp.json",
            "user",
            "start a new `q chat` session, or reload the IDE window, to load {server}",
        ),
    )
}
