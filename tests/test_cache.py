"""The compile cache (``sfn_mcp.cache``): it never changes the output.

A cold run (empty cache), a warm run (every step from the cache) and a run with the cache off
give the same files byte for byte and the same diagnostics, on the examples and on records with
enough schemas to use worker interpreters; entries that are truncated, garbage, of another
format or stored under another key are ignored and recomputed; concurrent writers leave only
whole entries; ``SFN_MCP_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sfn_mcp.pipeline
from sfn_mcp import cache as compile_cache
from sfn_mcp.cache import Cache, cache_root, open_cache
from sfn_mcp.cli import main
from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.models import batch
from sfn_mcp.pipeline import Compiled, compile_records
from sfn_mcp.read.records import MachineSource, load_records
from sfn_mcp.settings import Settings, load_settings
from tests.sources import machine, schema

ROOT = Path(__file__).parents[1]
RECORDS = ROOT / "tests" / "golden" / "ai_workflows.records.json"


def repository_settings() -> Settings:
    return load_settings({}, config_path=ROOT / "pyproject.toml", env={}, cwd=ROOT)


def examples() -> list[MachineSource]:
    return load_records(RECORDS.read_text(encoding="utf-8"))


def request(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": f"Request{i}",
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, f"n{i}": {"type": "integer"}, **extra},
    }


def many(count: int) -> list[MachineSource]:
    """``count`` machines with a schema each; the last one's schema is unusable (a warning)."""
    machines = [
        machine(f"shop-m{i}", source=schema(f"R{i}", request(i), kind="JSONSchemaDraft4"))
        for i in range(count - 1)
    ]
    bad = schema("Broken", {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}})
    machines.append(machine("shop-broken", source=replace(bad, type="JSONSchemaDraft4")))
    return machines


def shop_settings(tmp_path: Path) -> Settings:
    return load_settings(
        {"name": "shop_tools", "output": str(tmp_path / "out")},
        config_path=None,
        env={},
        cwd=tmp_path,
    )


def outcome(compiled: Compiled) -> tuple[dict[str, bytes], list[str]]:
    return (
        {path: text.encode() for path, text in compiled.files.items()},
        [d.render() for d in compiled.diagnostics],
    )


def entries(root: Path, kind: str | None = None) -> list[Path]:
    base = root / f"v{compile_cache.FORMAT}"
    found = sorted(p for p in base.glob("*/*/*/*") if p.is_file() and not p.name.startswith("."))
    return [p for p in found if kind is None or p.parent.parent.name == kind]


# --------------------------------------------------------------------------- same output


def test_cold_warm_and_uncached_compiles_of_the_examples_are_byte_identical(
    tmp_path: Path,
) -> None:
    settings = repository_settings()
    uncached = outcome(compile_records(settings, examples(), cache=False))
    cold_cache = Cache(tmp_path / "cache")
    cold = outcome(compile_records(settings, examples(), cache=cold_cache))
    assert cold_cache.hits == 0 and entries(tmp_path / "cache")
    warm_cache = Cache(tmp_path / "cache")
    warm = outcome(compile_records(settings, examples(), cache=warm_cache))
    assert warm_cache.misses == 0 and warm_cache.hits > 0
    assert cold == uncached
    assert warm == uncached
    # and what the examples compile to is what generated/ holds (its version aside)
    committed = settings.output / settings.name
    for path in ("tools.py", "models/__init__.py", "iam-policy.json"):
        assert warm[0][path] == (committed / path).read_bytes()


def test_worker_interpreters_and_the_cache_give_what_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = shop_settings(tmp_path)
    serial = outcome(compile_records(settings, many(9), cache=False))
    monkeypatch.setattr(batch, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(batch, "CHUNK", 1)
    monkeypatch.setattr(batch, "workers", lambda: 3)
    spawned: list[int] = []
    real = batch._in_child
    monkeypatch.setattr(batch, "_in_child", lambda share: spawned.append(len(share)) or real(share))
    pooled = outcome(compile_records(settings, many(9), cache=False))
    assert sorted(spawned) == [3, 3, 3]
    cold = outcome(compile_records(settings, many(9), cache=Cache(tmp_path / "c")))
    warm_cache = Cache(tmp_path / "c")
    warm = outcome(compile_records(settings, many(9), cache=warm_cache))
    assert warm_cache.misses == 0
    assert pooled == serial and cold == serial and warm == serial
    assert any("points nowhere" in d for d in serial[1])  # the failure is cached too


def test_a_worker_that_fails_is_replaced_by_the_same_work_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = shop_settings(tmp_path)
    serial = outcome(compile_records(settings, many(5), cache=False))
    monkeypatch.setattr(batch, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(batch, "CHUNK", 1)
    monkeypatch.setattr(batch, "workers", lambda: 2)
    monkeypatch.setattr(batch, "_WORKER", "raise SystemExit(3)")
    assert outcome(compile_records(settings, many(5), cache=False)) == serial


def test_a_changed_schema_misses_and_the_rest_hit(tmp_path: Path) -> None:
    settings = shop_settings(tmp_path)
    compile_records(settings, many(4), cache=Cache(tmp_path / "c"))
    changed = many(4)
    first = changed[0].schema
    assert first is not None
    changed[0] = replace(changed[0], schema=replace(first, description="now described"))
    before = {kind: len(entries(tmp_path / "c", kind)) for kind in ("model", "format", "surface")}
    store = Cache(tmp_path / "c")
    fresh = compile_records(settings, changed, cache=store)
    assert outcome(fresh) == outcome(compile_records(settings, changed, cache=False))
    assert 0 < store.misses < store.hits
    # the new values replaced the old ones (a slot per schema version, file and package)
    after = {kind: len(entries(tmp_path / "c", kind)) for kind in ("model", "format", "surface")}
    assert after == before and before["surface"] == 1


def test_folders_of_environments_unused_for_two_weeks_are_removed(tmp_path: Path) -> None:
    base = tmp_path / f"v{compile_cache.FORMAT}"
    old, recent = base / "old-environment", base / "recent-environment"
    for folder in (old, recent):
        (folder / "model" / "ab").mkdir(parents=True)
        (folder / "model" / "ab" / "abcd").write_text("x", encoding="utf-8")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    store = Cache(tmp_path, salt="current")
    store.put("t", "key", {"a": 1})
    assert not old.exists() and recent.exists()
    assert store.get("t", "key") == {"a": 1}


# --------------------------------------------------------------------------- bad entries


def _corruptions(path: Path, other: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    head, _, payload = data.partition(b"\n")
    header = json.loads(head)
    return [
        ("empty", b""),
        ("truncated", data[: len(data) // 2]),
        ("garbage", os.urandom(64)),
        ("no newline", head),
        ("not json", b"{" + data),
        ("payload edited", head + b"\n" + payload.replace(b"a", b"b", 1)),
        ("other format", json.dumps({**header, "sfnMcpCache": 0}).encode() + b"\n" + payload),
        ("other key", other.read_bytes()),
        ("payload not what the step stores", _entry(header, b'{"unexpected": true}')),
        ("payload wrong types", _entry(header, b'{"model": {"source": 1}}')),
    ]


def _entry(header: dict[str, Any], payload: bytes) -> bytes:
    import hashlib

    fixed = {**header, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    return json.dumps(fixed).encode() + b"\n" + payload


@pytest.mark.parametrize("kind", ["model", "format", "surface"])
def test_bad_entries_are_ignored_and_recomputed(tmp_path: Path, kind: str) -> None:
    settings = shop_settings(tmp_path)
    machines = many(3)
    expected = outcome(compile_records(settings, machines, cache=False))
    root = tmp_path / "c"
    compile_records(settings, machines, cache=Cache(root))
    found = entries(root, kind)
    assert found, f"no {kind} entries"
    target = found[0]
    same_kind = [p for p in found if p != target]  # stored for another key: read as a miss
    other = (same_kind or [p for p in entries(root) if p.parent.parent.name != kind])[0]
    good = target.read_bytes()
    for label, data in _corruptions(target, other):
        target.write_bytes(data)
        store = Cache(root)
        assert outcome(compile_records(settings, machines, cache=store)) == expected, label
        assert store.misses >= 1, label
        assert target.read_bytes() == good, f"{label}: the entry was not rewritten"


def test_an_unusable_cache_folder_is_a_slower_run_not_a_failure(tmp_path: Path) -> None:
    settings = shop_settings(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    expected = outcome(compile_records(settings, many(2), cache=False))
    assert outcome(compile_records(settings, many(2), cache=Cache(blocked / "c"))) == expected


def test_values_that_would_not_read_back_exactly_are_not_stored(tmp_path: Path) -> None:
    store = Cache(tmp_path, salt="s")
    for i, value in enumerate(
        [(1, 2), {"a": float("nan")}, {1: "int key"}, {"a": {"b": [1, (2,)]}}]
    ):
        store.put("t", f"{i:02d}key", value)
        assert store.get("t", f"{i:02d}key") is None, value
    store.put("t", "ok", {"a": [1, 1.0, True, None, "é", "\ud800"]})
    assert store.get("t", "ok") == {"a": [1, 1.0, True, None, "é", "\ud800"]}


def test_keys_name_every_part_and_the_environment() -> None:
    store = Cache(Path("/nonexistent"), salt="one")
    assert store.key("k", "ab", "c") != store.key("k", "a", "bc")
    assert store.key("k", "a") != store.key("j", "a")
    assert store.key("k", "a") != Cache(Path("/nonexistent"), salt="two").key("k", "a")
    assert compile_cache.fingerprint() == compile_cache.fingerprint()


# --------------------------------------------------------------------------- concurrency

_WRITER = """
import sys
from pathlib import Path
from sfn_mcp.cache import Cache
store = Cache(Path(sys.argv[1]), salt="s")
for round in range(40):
    for key in ("k1", "k2", "k3"):
        store.put("t", key, {"key": key, "text": key * 20000})
        value = store.get("t", key)
        assert value is None or value == {"key": key, "text": key * 20000}, "partial entry"
"""


def test_concurrent_writers_leave_whole_entries(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], env=env) for _ in range(3)
    ]
    problems: list[str] = []

    def read() -> None:
        store = Cache(tmp_path, salt="s")
        for _ in range(300):
            for key in ("k1", "k2", "k3"):
                value = store.get("t", key)
                if value is not None and value != {"key": key, "text": key * 20000}:
                    problems.append(key)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    assert problems == []
    store = Cache(tmp_path, salt="s")
    assert all(store.get("t", key) == {"key": key, "text": key * 20000} for key in ("k1", "k2"))
    leftovers = [p for p in (tmp_path / f"v{compile_cache.FORMAT}").rglob(".*") if p.is_file()]
    assert leftovers == []  # temporary files are renamed into place, never left behind


# --------------------------------------------------------------------------- where, and off


def test_where_the_cache_lives(tmp_path: Path) -> None:
    config = tmp_path / "project" / "pyproject.toml"
    config.parent.mkdir()
    config.write_text("[tool.sfn-mcp]\n", encoding="utf-8")
    beside = config.resolve().parent / ".sfn-mcp-cache"
    assert cache_root(config, env={}) == beside
    assert cache_root(None, env={"XDG_CACHE_HOME": str(tmp_path / "x")}) == tmp_path / "x/sfn-mcp"
    assert cache_root(config, env={"SFN_MCP_CACHE_DIR": str(tmp_path / "y")}) == tmp_path / "y"
    for off in ("1", "yes", "true"):
        assert cache_root(config, env={"SFN_MCP_NO_CACHE": off}) is None
        assert open_cache(config, env={"SFN_MCP_NO_CACHE": off}) is None
    assert cache_root(config, env={"SFN_MCP_NO_CACHE": "0"}) == beside


def test_the_folder_explains_itself_and_is_ignored_by_git(tmp_path: Path) -> None:
    root = tmp_path / "c"
    compile_records(shop_settings(tmp_path), many(2), cache=Cache(root))
    assert (root / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert (root / "CACHEDIR.TAG").read_text(encoding="utf-8").startswith("Signature: 8a477f59")
    assert "Delete it at any time" in (root / "README.txt").read_text(encoding="utf-8")


def test_the_repository_ignores_the_cache_folder() -> None:
    """By its own .gitignore (the folder's one only exists once a compile has run)."""
    result = subprocess.run(
        ["git", "check-ignore", "-v", "--no-index", ".sfn-mcp-cache/v1/model/ab/abcdef"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.startswith(".gitignore:"), result.stdout


def test_generate_twice_and_with_the_cache_off_prints_and_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command line: the warning of an unusable schema comes back from the cache
    word for word; SFN_MCP_NO_CACHE=1 writes no cache at all."""
    recorded = many(3)
    monkeypatch.setattr(sfn_mcp.pipeline, "read_account", lambda *a, **k: recorded, raising=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SFN_MCP_NO_CACHE", raising=False)
    monkeypatch.setenv("SFN_MCP_CACHE_DIR", str(tmp_path / "cache"))
    runs = []
    for env in ({}, {}, {"SFN_MCP_NO_CACHE": "1", "SFN_MCP_CACHE_DIR": str(tmp_path / "none")}):
        out = tmp_path / f"out{len(runs)}"
        args = ["generate", "--prefix", "shop-", "--name", "shop_tools", "-o", str(out)]
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.stderr
        files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        stderr = result.stderr.replace(str(out), "<out>").splitlines()
        runs.append((files, [line for line in stderr if not line.startswith("Rendered ")]))
    assert runs[0] == runs[1] == runs[2]
    assert any("points nowhere" in line for line in runs[0][1])
    assert entries(tmp_path / "cache") and not (tmp_path / "none").exists()


def test_no_cache_variable_turns_the_default_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFN_MCP_NO_CACHE", "1")
    monkeypatch.setenv("SFN_MCP_CACHE_DIR", str(tmp_path / "cache"))
    compile_records(shop_settings(tmp_path), many(2), Diagnostics())
    assert not (tmp_path / "cache").exists()
    monkeypatch.delenv("SFN_MCP_NO_CACHE")
    compile_records(shop_settings(tmp_path), many(2), Diagnostics())
    assert entries(tmp_path / "cache")
