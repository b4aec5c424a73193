"""The MCP clients sfn-mcp configures: where each keeps its servers, and how it wants them.

- **Clients and files.** Claude Desktop (``claude_desktop_config.json`` in the platform's
  application-data folder, user only), Claude Code (``~/.claude.json``, or
  ``$CLAUDE_CONFIG_DIR/.claude.json``, top-level ``mcpServers``; or ``.mcp.json`` at the
  repository root; ``"type": "stdio"``), Cursor (``~/.cursor/mcp.json`` or
  ``.cursor/mcp.json``), VS Code (``.vscode/mcp.json``, project only, key ``servers`` and
  ``"type": "stdio"``), Windsurf (``~/.codeium/windsurf/mcp_config.json``, user only), Gemini CLI
  (``~/.gemini/settings.json`` or ``.gemini/settings.json``), Kiro (``~/.kiro/settings/mcp.json``
  or ``.kiro/settings/mcp.json``) and Amazon Q Developer (``~/.aws/amazonq/mcp.json`` or
  ``.amazonq/mcp.json``). ``--file`` overrides the location.
- **User scope by default** where a client has both: the entry holds absolute paths of this
  machine (the launcher, the package folder), which do not belong in a file a team commits.
  Project files are written under the current folder, except Claude Code's ``.mcp.json``, which
  it looks for at the project root: the enclosing git repository's top folder (else the current
  folder).
- **JSONC** only for VS Code, which reads ``mcp.json`` as JSON with comments and trailing commas,
  and Gemini CLI, which strips comments from ``settings.json`` before parsing it; the others'
  files must be strict JSON (see ``plan``).
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


def _claude_code_file() -> Path:
    # Claude Code keeps its state, user-scope servers included, in .claude.json: in the home
    # folder, or in CLAUDE_CONFIG_DIR when that is set.
    custom = os.environ.get("CLAUDE_CONFIG_DIR", "")
    return (Path(custom).expanduser() if custom else _home()) / ".claude.json"


def _repository_root(cwd: Path) -> Path:
    """The top folder of the git work tree holding ``cwd`` (``.git`` a folder or a file), else
    ``cwd`` itself."""
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


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
    project_at_root: bool = False  # the project file sits at the repository root, not in cwd

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
            base = _repository_root(cwd) if self.project_at_root else cwd
            return base / self.project_file
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
            "claude-code",
            "Claude Code",
            "mcpServers",
            _claude_code_file,
            ".mcp.json",
            "user",
            "start a new `claude` session and run /mcp to check {server} (a server from a "
            "project's .mcp.json asks for your approval the first time)",
            stdio_type=True,
            project_at_root=True,
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
            "windsurf",
            "Windsurf",
            "mcpServers",
            lambda: _home() / ".codeium" / "windsurf" / "mcp_config.json",
            None,
            "user",
            "in Windsurf's Cascade panel open the MCP servers view and press Refresh (or restart "
            "Windsurf) to load {server}",
        ),
        Client(
            "gemini",
            "Gemini CLI",
            "mcpServers",
            lambda: _home() / ".gemini" / "settings.json",
            ".gemini/settings.json",
            "user",
            "start a new `gemini` session and run /mcp to check {server} (a project's "
            ".gemini/settings.json is read only in a trusted folder)",
            jsonc=True,
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
