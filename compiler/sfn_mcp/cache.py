"""The compile cache: results of the expensive steps (a schema's model, a formatted file, the
package's ``surface.json``), each stored under a key made of everything that decides it.

A key hashes its inputs together with this environment's fingerprint (the Python, the versions
of the libraries whose output ends up in the package, and the text of every sfn-mcp source file),
so an entry is only ever found by a run that would compute the same value; a changed input, an
upgraded library or an edited compiler simply misses. The cache can never change the output: an
entry is used only when it reads back whole (its header names this format, its kind and its key,
and the SHA-256 of its payload matches), anything else is ignored and recomputed, and a value is
stored only when it survives the trip through JSON exactly. Entries are written to a temporary
file and renamed into place, so concurrent runs at worst compute the same entry twice.

Where: ``.sfn-mcp-cache/`` beside the configuration file (the project's ``pyproject.toml`` or
``--config``), else ``$XDG_CACHE_HOME/sfn-mcp`` (``~/.cache/sfn-mcp``); ``SFN_MCP_CACHE_DIR``
names another folder and ``SFN_MCP_NO_CACHE=1`` turns the cache off. The folder can be deleted
at any time; it holds a ``.gitignore`` of its own.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

FORMAT = 1  # of an entry file; also the name of the folder the entries live in (v1/)
DIRECTORY = ".sfn-mcp-cache"  # beside the configuration file
DISABLE = "SFN_MCP_NO_CACHE"  # set (to anything but "" or "0"): no cache at all
LOCATION = "SFN_MCP_CACHE_DIR"  # another folder for the cache

# Libraries whose versions decide what the cached steps produce (models, formatting, the
# listing the package answers): an upgrade of any of them starts afresh.
DEPENDENCIES = (
    "datamodel-code-generator",
    "pydantic",
    "pydantic-core",
    "jsonschema",
    "referencing",
    "ruff",
    "jinja2",
    "mcp",
)
SOURCE_PACKAGES = ("sfn_mcp", "sfn_mcp_runtime")

_README = (
    "This folder is sfn-mcp's compile cache: results of model generation, formatting and the\n"
    "package listing, keyed by everything that decides them. Delete it at any time; sfn-mcp\n"
    f"recomputes what it needs. Turn it off with {DISABLE}=1.\n"
)
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by sfn-mcp.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def cache_root(config_file: Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The cache folder for a run configured by ``config_file`` (None: no configuration file),
    or None when the cache is turned off."""
    env = os.environ if env is None else env
    if env.get(DISABLE, "") not in ("", "0"):
        return None
    if env.get(LOCATION):
        return Path(env[LOCATION]).expanduser()
    if config_file is not None:
        return config_file.resolve().parent / DIRECTORY
    try:
        xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no home folder to be found: no cache
        return None
    return Path(xdg).expanduser() / "sfn-mcp"


@functools.cache
def fingerprint() -> str:
    """What every key includes: this interpreter, the libraries' versions and sfn-mcp's own
    source text (its version number alone does not move when the code does)."""
    digest = hashlib.sha256(f"sfn-mcp cache {FORMAT}\0{sys.version}\0".encode())
    for name in DEPENDENCIES:
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "-"
        digest.update(f"{name}={found}\0".encode())
    for package in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(package)  # located, not imported
        folders = (spec.submodule_search_locations or []) if spec else []
        for folder in map(Path, folders):
            for path in sorted(folder.rglob("*.py")):
                digest.update(f"{path.relative_to(folder.parent).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _itself(value: Any) -> Any:
    return value


def _exact(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``1 == 1.0 == True`` is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_exact(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_exact(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


STALE_DAYS = 14  # a folder of another environment unused this long is removed


class Cache:
    """Entries under ``root/v<FORMAT>/<environment>/<kind>/<name[:2]>/<name>``, where the name
    is the entry's key or, for steps whose inputs keep changing (a file's text, the package),
    a slot the caller names (the file's path): a slot holds the last value stored in it, and its
    header's key says for what. So the folder grows with the schemas and files a project has,
    not with the number of runs; the folders of environments unused for STALE_DAYS (an older
    sfn-mcp, another Python) are removed. Reading or writing an entry never raises (a problem
    reads as a miss, and a value that cannot be stored is not)."""

    def __init__(self, root: Path, salt: str | None = None) -> None:
        self.root = root
        self.salt = fingerprint() if salt is None else salt
        self.hits = 0
        self.misses = 0
        self._prepared = False
        self._touched = False

    @property
    def folder(self) -> Path:
        """This environment's entries."""
        return self.root / f"v{FORMAT}" / self.salt[:24]

    def slot(self, *parts: str) -> str:
        """A slot name made of ``parts`` (for ``get``/``put``)."""
        return self.key("slot", *parts)

    def key(self, kind: str, *parts: str) -> str:
        """The key of a ``kind`` of entry computed from ``parts`` (each length-prefixed, so no
        two different lists of parts hash alike)."""
        digest = hashlib.sha256(f"{self.salt}\0{kind}\0{len(parts)}\0".encode())
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            digest.update(f"{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()

    def _path(self, kind: str, key: str, slot: str | None) -> Path:
        name = slot or key
        return self.folder / kind / name[:2] / name

    def get(
        self,
        kind: str,
        key: str,
        decode: Callable[[Any], T] = _itself,
        *,
        slot: str | None = None,
    ) -> T | None:
        """The value stored for ``key`` (in ``slot``, if given) as ``decode`` makes it of the
        JSON data, or None (missing, unreadable, not whole, stored for another key, or not what
        ``decode`` takes: None or an error)."""
        self._touch()
        try:
            data = self._path(kind, key, slot).read_bytes()
            head, newline, payload = data.partition(b"\n")
            header = json.loads(head)
            whole = (
                newline
                and isinstance(header, dict)
                and header.get("sfnMcpCache") == FORMAT
                and header.get("kind") == kind
                and header.get("key") == key
                and header.get("bytes") == len(payload)
                and header.get("sha256") == hashlib.sha256(payload).hexdigest()
            )
            value = decode(json.loads(payload)) if whole else None
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any, *, slot: str | None = None) -> None:
        """Store ``value`` (JSON data) for ``key`` (in ``slot``, if given, replacing what it
        held): a temporary file renamed into place."""
        try:
            payload = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
            if not _exact(json.loads(payload), value):
                return  # e.g. a tuple or NaN in it: would not read back as the same value
            header = {
                "sfnMcpCache": FORMAT,
                "kind": kind,
                "key": key,
                "bytes": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
            path = self._path(kind, key, slot)
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, scratch = tempfile.mkstemp(prefix=f".{key[:8]}-", dir=path.parent)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(json.dumps(header).encode() + b"\n" + payload)
                os.replace(scratch, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(scratch)
                raise
        except (OSError, ValueError, TypeError, RecursionError):
            pass  # a read-only or full disk, an unencodable value: the run goes on uncached

    def _touch(self) -> None:
        """Mark this environment's folder used (once a run), for the pruning of stale ones."""
        if not self._touched:
            self._touched = True
            with contextlib.suppress(OSError):
                os.utime(self.folder)

    def _prepare(self) -> None:
        """Once, before the first write: the folder's own notes (what it is, ignored by git,
        skipped by backups), and the folders of environments unused for STALE_DAYS removed."""
        if self._prepared:
            return
        self._prepared = True
        self.root.mkdir(parents=True, exist_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.utime(self.folder)
        stale = time.time() - STALE_DAYS * 86400
        with contextlib.suppress(OSError):
            for other in self.folder.parent.iterdir():
                if other != self.folder and other.is_dir() and other.stat().st_mtime < stale:
                    shutil.rmtree(other, ignore_errors=True)
        for name, text in (
            ("README.txt", _README),
            (".gitignore", "# Created by sfn-mcp: its compile cache.\n*\n"),
            ("CACHEDIR.TAG", _CACHEDIR_TAG),
        ):
            if not (self.root / name).exists():
                with contextlib.suppress(OSError):
                    (self.root / name).write_text(text, encoding="utf-8")


def open_cache(config_file: Path | None, env: Mapping[str, str] | None = None) -> Cache | None:
    """The cache of a run, or None when it is turned off."""
    root = cache_root(config_file, env)
    return None if root is None else Cache(root)


# The cache of the compile in progress, for the steps whose callers do not pass one on
# (formatting, called from the render stage).
_ACTIVE: ContextVar[Cache | None] = ContextVar("sfn_mcp_cache", default=None)


def active() -> Cache | None:
    return _ACTIVE.get()


@contextlib.contextmanager
def using(cache: Cache | None) -> Iterator[Cache | None]:
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
