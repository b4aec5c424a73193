"""``sfn-mcp configure``: add the generated server to an MCP client's configuration file.

One entry per client, under the client's servers key::

    "ai-workflows": {"command": "/abs/python", "args": ["-m", "ai_workflows"],
                     "env": {"PYTHONPATH": "/abs/generated", "AWS_PROFILE": "..."}}

Design decisions:

- **Clients and files.** Claude Desktop (``claude_desktop_config.json`` in the platform's
  application-data folder, user only), Cursor (``~/.cursor/mcp.json`` or ``.cursor/mcp.json``),
  VS Code (``.vscode/mcp.json``, project only, key ``servers`` and ``"type": "stdio"``), Kiro
  (``~/.kiro/settings/mcp.json`` or ``.kiro/settings/mcp.json``) and Amazon Q Developer
  (``~/.aws/amazonq/mcp.json`` or ``.amazonq/mcp.json``). ``--file`` overrides the location.
- **User scope by default** where a client has both: the entry holds absolute paths of this
  machine (the interpreter, the package folder), which do not belong in a file a team commits.
  Project files are written under the current folder.
- **The interpreter** is the one running sfn-mcp (``sys.executable``, made absolute but not
  resolved: a virtualenv's ``python`` is a symlink whose target would not see the virtualenv's
  packages). It is run once to check it is Python 3.11+, finds mcp, pydantic, boto3 and
  jsonschema, and imports the package from the configured folder (not a same-named one
  elsewhere).
- **PYTHONPATH, not cwd.** The clients do not all support ``cwd``, so the folder holding the
  package goes into ``env`` as ``PYTHONPATH``.
- **AWS settings** come from ``--profile``/``--region``, else ``AWS_PROFILE`` and ``AWS_REGION``
  (or ``AWS_DEFAULT_REGION``) of the calling shell, and are written only when set (``--profile
  ''`` leaves a set one out). The ``[tool.sfn-mcp]`` profile is deliberately not used: it is the
  compiler's, often read-only, profile, while the server needs to start executions.
- **The entry is ours, the rest of the file is not.** The file is edited as text: only our
  entry's value is replaced (or a new member inserted after the last one), so every other server,
  every other top-level key, their order, the file's formatting and, in VS Code's file, its
  comments stay byte for byte. Inside our entry, ``command``, ``args``, ``env`` (and ``type``) are
  rewritten on every run (``env`` whole, so a dropped ``--env`` disappears); other keys a user
  added there (``autoApprove``, ``disabled``, ...) are kept. The edited text is parsed back and
  compared with the intended document before anything is written; a mismatch falls back to a
  plain 2-space dump for strict JSON and is refused for a file with comments.
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
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.settings import load_settings

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
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


# --- JSON with comments, edited as text --------------------------------------------------------

_WS = " \t\r\n"


def _string_end(text: str, i: int) -> int:
    """Index after the JSON string starting at ``text[i] == '"'``."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    return len(text)


def strip_jsonc(text: str) -> tuple[str, bool]:
    """Blank out comments and trailing commas, keeping every other character where it was.

    The result has the same length and line breaks as ``text``, so positions found in it (and
    ``json`` error lines) hold for the original. Returns the text and whether anything changed.
    """
    out = list(text)
    changed = False
    last_comma: int | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
            last_comma = None
            continue
        if c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:  # unterminated: leave it for the JSON parser to report
                break
            end += 2
        else:
            if c in "}]" and last_comma is not None:
                out[last_comma] = " "
                changed = True
            if c == ",":
                last_comma = i
            elif c not in _WS:
                last_comma = None
            i += 1
            continue
        for k in range(i, end):
            if out[k] not in "\r\n":
                out[k] = " "
        changed = True
        i = end
    return "".join(out), changed


@dataclass
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int
    value: _Object | None  # set when the value is an object


@dataclass
class _Object:
    open: int
    close: int = -1
    members: list[_Member] = field(default_factory=list)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _scan(text: str, i: int) -> tuple[int, _Object | None]:
    """Spans of the (already validated, comment-free) JSON value at ``i``: its end, and for an
    object its members."""
    c = text[i]
    if c == "{":
        obj = _Object(open=i)
        i = _skip(text, i + 1)
        while text[i] != "}":
            key_start = i
            i = _string_end(text, i)
            key = json.loads(text[key_start:i])
            i = _skip(text, _skip(text, i) + 1)  # past the colon
            value_start = i
            i, child = _scan(text, i)
            obj.members.append(_Member(key, key_start, value_start, i, child))
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        obj.close = i
        return i + 1, obj
    if c == "[":
        i = _skip(text, i + 1)
        while text[i] != "]":
            i, _ = _scan(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return i + 1, None
    if c == '"':
        return _string_end(text, i), None
    while i < len(text) and text[i] not in ",}]" + _WS:
        i += 1
    return i, None


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_of(text: str, pos: int) -> str | None:
    """The indentation of the line ``pos`` is on, or None when something precedes it there."""
    start = _line_start(text, pos)
    prefix = text[start:pos]
    return prefix if not prefix.strip() else None


def _line_indent(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _dump(value: Any, indent: str | None, unit: str) -> str:
    """``value`` as JSON: on one line when ``indent`` is None, else pretty with continuation
    lines prefixed by ``indent``; lists of plain values (``args``) stay on one line."""
    if indent is None or not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + unit
    if isinstance(value, dict):
        items = [
            f"{json.dumps(k, ensure_ascii=False)}: {_dump(v, inner, unit)}"
            for k, v in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [_dump(v, inner, unit) for v in value]
        opening, closing = "[", "]"
    body = ",\n".join(inner + item for item in items)
    return f"{opening}\n{body}\n{indent}{closing}"


def _insert_member(
    text: str, obj: _Object, key: str, value: Any, unit: str
) -> list[tuple[int, int, str]]:
    """Edits that add ``"key": value`` as the last member of ``obj``."""
    if not obj.members:
        outer = _line_indent(text, obj.open)
        inner = text[obj.open + 1 : obj.close].rstrip()
        member = f"{json.dumps(key)}: {_dump(value, outer + unit, unit)}"
        return [(obj.open + 1, obj.close, f"{inner}\n{outer}{unit}{member}\n{outer}")]
    last = obj.members[-1]
    indent = _indent_of(text, last.key_start)
    member = f"{json.dumps(key)}: {_dump(value, indent, unit)}"
    if indent is None:  # a one-line object: stay on its line
        return [(last.value_end, last.value_end, ", " + member)]
    # Insert after the last value's line: its comma and comments on that line stay with it.
    end = pos = last.value_end
    has_comma = False
    while pos < obj.close:
        if text[pos] in " \t":
            pos += 1
        elif text[pos] == "," and not has_comma:  # a trailing comma (JSONC)
            has_comma = True
            pos += 1
        elif text.startswith("/*", pos) and "\n" not in text[pos : text.find("*/", pos)]:
            pos = text.find("*/", pos) + 2
        elif text.startswith("//", pos):
            pos = text.find("\n", pos)
            break
        else:
            break
    addition = f"\n{indent}{member}"
    if has_comma:
        return [(pos, pos, addition)]
    if pos == end:
        return [(end, end, "," + addition)]
    return [(end, end, ","), (pos, pos, addition)]


def _apply(text: str, edits: list[tuple[int, int, str]], newline: str) -> str:
    for start, end, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:start] + new.replace("\n", newline) + text[end:]
    return text


def _ordered(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # dict order kept: equal text = same order


@dataclass(frozen=True)
class Plan:
    client: Client
    path: Path
    old: str | None
    new: str
    status: str  # added, updated, unchanged


def _parse(text: str, path: Path, client: Client) -> tuple[Any, str, bool]:
    """The document, the comment-free text (same positions) and whether it had comments."""
    try:
        return json.loads(text), text, False
    except json.JSONDecodeError as strict:
        stripped, changed = strip_jsonc(text)
        error = strict
        if changed:
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError as loose:
                error = loose if client.jsonc else strict
            else:
                if client.jsonc:
                    return data, stripped, True
                raise CompileError(
                    f"{path} is not valid JSON: {strict.msg} at line {strict.lineno}, column "
                    f"{strict.colno} (comments and trailing commas are not allowed; "
                    f"{client.label} would not read this file)",
                    hint="remove them and run again; nothing was written",
                ) from None
        raise CompileError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            hint="fix the file (or move it away) and run again; nothing was written to it",
        ) from None


def plan_update(client: Client, path: Path, server: str, entry: dict[str, Any]) -> Plan:
    """Work out the new text of one client's file (nothing is written here)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:  # keep \r\n as it is
            old: str | None = handle.read()
    except FileNotFoundError:
        old = None
    except UnicodeDecodeError:
        raise CompileError(
            f"{path} is not UTF-8 text", hint="fix or move the file; nothing was written"
        ) from None
    except OSError as exc:
        raise CompileError(f"cannot read {path}: {exc.strerror}") from exc
    fresh = {client.servers_key: {server: entry}}
    if old is None or not old.strip():
        return Plan(client, path, old, _dump(fresh, "", "  ") + "\n", "added")

    bom = "\ufeff" if old.startswith("\ufeff") else ""
    body = old[len(bom) :]
    data, stripped, commented = _parse(body, path, client)
    if not isinstance(data, dict):
        raise CompileError(
            f"{path}: the top level is {type(data).__name__}, not an object",
            hint=f'an MCP configuration looks like {{"{client.servers_key}": {{...}}}}',
        )
    servers = data.get(client.servers_key)
    if servers is not None and not isinstance(servers, dict):
        raise CompileError(
            f'{path}: "{client.servers_key}" is {type(servers).__name__}, not an object of '
            "servers by name",
            hint="fix the file by hand; nothing was written",
        )
    existing = servers.get(server) if servers else None
    merged = dict(existing) if isinstance(existing, dict) else {}
    merged.update(entry)  # our keys in place; keys a user added to the entry stay
    if existing is not None and _ordered(existing) == _ordered(merged):
        return Plan(client, path, old, old, "unchanged")
    status = "added" if existing is None else "updated"
    expected = dict(data)
    expected[client.servers_key] = {**(servers or {}), server: merged}

    _, top = _scan(stripped, _skip(stripped, 0))
    assert top is not None
    first = top.members[0] if top.members else None
    unit = (_indent_of(body, first.key_start) if first else None) or "  "
    newline = "\r\n" if "\r\n" in body else "\n"
    edits = _edits(body, stripped, top, path, client, server, merged, unit)
    new = _apply(body, edits, newline)
    if not new.endswith("\n"):
        new += newline
    try:
        reparsed = json.loads(strip_jsonc(new)[0] if commented else new)
    except json.JSONDecodeError:
        reparsed = None
    if reparsed is None or _ordered(reparsed) != _ordered(expected):
        if commented:
            raise CompileError(
                f"{path}: sfn-mcp could not add the entry without losing the file's comments; "
                f'add it by hand under "{client.servers_key}":\n'
                f"{json.dumps(server)}: {_dump(merged, '', '  ')}",
                hint="or remove the comments and run again; nothing was written",
            )
        new = _dump(expected, "", "  ") + "\n"  # a layout we could not follow: plain JSON
    return Plan(client, path, old, bom + new, status)


def _single(obj: _Object, key: str, path: Path) -> _Member | None:
    found = [member for member in obj.members if member.key == key]
    if len(found) > 1:
        raise CompileError(
            f'{path} has the key "{key}" {len(found)} times',
            hint="keep one of them and run again; nothing was written",
        )
    return found[0] if found else None


def _edits(
    body: str,
    stripped: str,
    top: _Object,
    path: Path,
    client: Client,
    server: str,
    merged: dict[str, Any],
    unit: str,
) -> list[tuple[int, int, str]]:
    servers_member = _single(top, client.servers_key, path)
    if servers_member is None:
        return _insert_member(body, top, client.servers_key, {server: merged}, unit)
    assert servers_member.value is not None  # checked to be an object
    ours = _single(servers_member.value, server, path)
    if ours is None:
        return _insert_member(body, servers_member.value, server, merged, unit)
    span = slice(ours.value_start, ours.value_end)
    if body[span] != stripped[span]:
        raise CompileError(
            f'{path}: the "{server}" entry has comments inside it, which rewriting it would '
            f"lose; replace its value by hand with:\n{_dump(merged, '', '  ')}",
            hint="or remove those comments and run again; nothing was written",
        )
    indent = _indent_of(body, ours.key_start)
    return [(ours.value_start, ours.value_end, _dump(merged, indent, unit))]


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


# --- What the entry says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    name: str
    folder: Path  # goes on PYTHONPATH


def find_package(
    config_path: Path | None, name: str | None, package_dir: Path | None, cwd: Path
) -> Package:
    """The generated package, from the project's settings unless flags say otherwise."""
    settings = load_settings({"name": name} if name else {}, config_path=config_path, cwd=cwd)
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
    package: Package, profile: str | None, region: str | None, extra: Sequence[str]
) -> dict[str, str]:
    env = {"PYTHONPATH": str(package.folder)}
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
        if key == "PYTHONPATH":
            raise CompileError(
                "--env PYTHONPATH: configure sets it to the folder holding the package",
                hint="pass --package-dir to change that folder",
            )
        if key in given and given[key] != value:
            raise CompileError(f"--env {key} is given twice with different values")
        given[key] = value
    env.update(given)
    return env


def build_entry(
    client: Client, python: Path, package: Package, env: dict[str, str]
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "stdio"} if client.stdio_type else {}
    entry.update(command=str(python), args=["-m", package.name], env=env)
    return entry


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
) -> tuple[str, list[Plan]]:
    if file_path is not None and len(clients) > 1:
        raise CompileError(
            "--file names one file, but several clients were given",
            hint="configure one --client per run when you pass --file",
        )
    cwd = Path.cwd()
    package = find_package(config_path, name, package_dir, cwd)
    server = server_name if server_name is not None else package.name.replace("_", "-")
    if not SERVER_NAME.match(server):
        raise CompileError(
            f"--server-name {server!r}: use letters, digits, '-', '_' and '.', starting with a "
            "letter or digit"
        )
    interpreter = resolve_python(python)
    check_python(interpreter, package)
    env = build_env(package, profile, region, env_pairs)
    plans = []
    for key in clients:
        client = CLIENTS[key]
        default = client.file(scope or client.default_scope, cwd)  # checks --scope
        path = Path(os.path.abspath(file_path or default))
        entry = build_entry(client, interpreter, package, env)
        plans.append(plan_update(client, path, server, entry))
    return server, plans


def preview(plan: Plan) -> str:
    if plan.old is None:
        return plan.new
    diff = difflib.unified_diff(
        plan.old.splitlines(keepends=True),
        plan.new.splitlines(keepends=True),
        fromfile=str(plan.path),
        tofile=f"{plan.path} (after sfn-mcp configure)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
