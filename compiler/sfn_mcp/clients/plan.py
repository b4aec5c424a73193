"""Plan each client's file, then write them: what ``sfn-mcp configure`` does, without printing.

- **The entry is ours, the rest of the file is not.** The file is edited as text (``jsonc``):
  only our entry's value is replaced (or a new member inserted after the last one), so every
  other server, every other top-level key, their order, the file's formatting and, in VS Code's
  file, its comments stay byte for byte. Inside our entry, ``command``, ``args``, ``env`` (and
  ``type``) are rewritten on every run (``env`` whole, so a dropped ``--env`` disappears); other
  keys a user added there (``autoApprove``, ``disabled``, ...) are kept. The edited text is
  parsed back and compared with the intended document before anything is written; a mismatch
  falls back to a plain 2-space dump for strict JSON and is refused for a file with comments.
- **JSONC only where the client reads it.** VS Code reads ``mcp.json`` as JSON with comments and
  trailing commas, so those are accepted and kept. Cursor and Amazon Q reject them (their issue
  trackers show it), so in the other clients' files they are reported like any invalid JSON, with
  the file and line, and nothing is written. Comments inside our own entry would be lost by the
  rewrite; that case is refused with the entry to paste by hand.
- **Writes** are atomic (temporary file in the same folder, then ``os.replace``), keep the
  file's mode, follow a symlinked file to its target, create parent folders, and end with a
  newline. A run that changes nothing writes nothing ("unchanged"). All files are planned before
  the first is written, so an error in one client's file writes none. ``--dry-run`` prints a
  unified diff (or the new file) on stdout instead.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.clients import jsonc
from sfn_mcp.clients.entry import build_entry, build_env, find_package
from sfn_mcp.clients.launch import Launch, choose_launch
from sfn_mcp.clients.table import CLIENTS, Client
from sfn_mcp.diagnostics import CompileError

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Plan:
    client: Client
    path: Path
    old: str | None
    new: str
    status: str  # added, updated, unchanged


def _ordered(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # dict order kept: equal text = same order


def _parse(text: str, path: Path, client: Client) -> jsonc.Document:
    """The document, read as JSON with comments where the client reads it so."""
    try:
        return jsonc.parse(text, comments=client.jsonc)
    except jsonc.JsoncSyntaxError as error:
        if error.valid_jsonc:
            raise CompileError(
                f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column "
                f"{error.colno} (comments and trailing commas are not allowed; "
                f"{client.label} would not read this file)",
                hint="remove them and run again; nothing was written",
            ) from None
        raise CompileError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            hint="fix the file (or move it away) and run again; nothing was written to it",
        ) from None


def _read(path: Path) -> str | None:
    """The file's text, None when it does not exist."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:  # keep \r\n as it is
            return handle.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise CompileError(
            f"{path} is not UTF-8 text", hint="fix or move the file; nothing was written"
        ) from None
    except OSError as exc:
        raise CompileError(f"cannot read {path}: {exc.strerror}") from exc


def plan_update(client: Client, path: Path, server: str, entry: dict[str, Any]) -> Plan:
    """Work out the new text of one client's file (nothing is written here)."""
    old = _read(path)
    fresh = {client.servers_key: {server: entry}}
    if old is None or not old.strip():
        return Plan(client, path, old, jsonc.dump(fresh, "", "  ") + "\n", "added")

    bom = "\ufeff" if old.startswith("\ufeff") else ""
    body = old[len(bom) :]
    doc = _parse(body, path, client)
    data = doc.data
    if not isinstance(data, dict):
        raise CompileError(
            f"{path}: the top level is {type(data).__name__}, not an object",
            hint=f'an MCP configuration looks like {{"{client.servers_key}": {{...}}}}',
        )
    servers = data.get(client.servers_key)
    if client.servers_key in data and not isinstance(servers, dict):
        kind = "null" if servers is None else type(servers).__name__
        raise CompileError(
            f'{path}: "{client.servers_key}" is {kind}, not an object of servers by name',
            hint="fix the file by hand; nothing was written",
        )
    existing = servers.get(server) if servers else None
    merged = dict(existing) if isinstance(existing, dict) else {}
    merged.update(entry)  # our keys in place; keys a user added to the entry stay
    if existing is not None and _ordered(existing) == _ordered(merged):
        return Plan(client, path, old, old, "unchanged")
    status = "added" if existing is None else "updated"

    try:
        new = jsonc.set_member(doc, (client.servers_key, server), merged)
    except jsonc.DuplicateKey as exc:
        raise CompileError(
            f'{path} has the key "{exc.key}" {exc.count} times',
            hint="keep one of them and run again; nothing was written",
        ) from None
    except jsonc.CommentsInside:
        raise CompileError(
            f'{path}: the "{server}" entry has comments inside it, which rewriting it would '
            f"lose; replace its value by hand with:\n{jsonc.dump(merged, '', '  ')}",
            hint="or remove those comments and run again; nothing was written",
        ) from None
    except jsonc.EditMismatch as exc:
        if doc.commented:
            raise CompileError(
                f"{path}: sfn-mcp could not add the entry without losing the file's comments; "
                f'add it by hand under "{client.servers_key}":\n'
                f"{json.dumps(server)}: {jsonc.dump(merged, '', '  ')}",
                hint="or remove the comments and run again; nothing was written",
            ) from None
        new = jsonc.dump(exc.expected, "", "  ") + "\n"  # a layout we could not follow
    if not new.endswith("\n"):
        new += jsonc.newline_of(body)
    return Plan(client, path, old, bom + new, status)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename; a symlinked file is written through."""
    target = path.resolve() if path.is_symlink() else path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise CompileError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise CompileError(f"cannot write {path}: {exc.strerror or exc}") from exc


def plan_all(
    clients: list[str],
    scope: str | None,
    config_path: Path | None,
    name: str | None,
    package_dir: Path | None,
    server_name: str | None,
    python: str | None,
    profile: str | None,
    region: str | None,
    env_pairs: tuple[str, ...],
    file_path: Path | None,
    launch: str | None = None,
    package_id: str | None = None,
) -> tuple[str, Launch, list[Plan]]:
    """The server's name, how it is started (``launch``) and each client's plan; any error
    comes before a file is written."""
    if file_path is not None and len(clients) > 1:
        raise CompileError(
            "--file names one file, but several clients were given",
            hint="configure one --client per run when you pass --file",
        )
    cwd = Path.cwd()
    package = find_package(config_path, name, package_dir, cwd, package_id)
    server = server_name if server_name is not None else package.name.replace("_", "-")
    if not SERVER_NAME.match(server):
        raise CompileError(
            f"--server-name {server!r}: use letters, digits, '-', '_' and '.', starting with a "
            "letter or digit"
        )
    for key in clients:
        client = CLIENTS[key]
        client.file(scope or client.default_scope, cwd)  # checks --scope before any probe
    chosen = choose_launch(launch, python, package)
    env = build_env(chosen.env, profile, region, env_pairs)
    plans = []
    for key in clients:
        client = CLIENTS[key]
        default = client.file(scope or client.default_scope, cwd)
        path = Path(os.path.abspath(file_path or default))
        entry = build_entry(client, chosen.command, chosen.args, env)
        plans.append(plan_update(client, path, server, entry))
    return server, chosen, plans


def preview(plan: Plan) -> str:
    """What ``--dry-run`` shows: a unified diff of the file, or the new file whole."""
    if plan.old is None:
        return plan.new
    diff = difflib.unified_diff(
        plan.old.splitlines(keepends=True),
        plan.new.splitlines(keepends=True),
        fromfile=str(plan.path),
        tofile=f"{plan.path} (after sfn-mcp configure)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
