"""``sfn-mcp diff`` as a command: loading (files, folders, git revisions), renderers, snapshots,
exit codes and ``--list-rules``. The classification itself (one case folder per rule) and the
rules table are tested in tests/review/.

Snapshots of the three formats live in tests/snapshots/diff.{txt,md,json}; after an intended
change, rerun with ``UPDATE_SNAPSHOTS=1`` and review the diff of those files.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sfn_mcp.cli.diff import diff
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.compare import compare
from sfn_mcp.review.load import load_surface
from sfn_mcp.review.render import render_json, render_markdown, render_text
from sfn_mcp.review.rules import BREAKING, RULES, rules_markdown, rules_text
from sfn_mcp.review.surface import Change, Surface, parse_surface
from tests.review.helpers import (
    CONFIRMATION,
    DAILY_ETL,
    DEFS,
    GIFT,
    ORDER_IN,
    Mutation,
    add_tool,
    also,
    base_surface,
    edit,
    git,
    noop,
    plus,
    put,
    without,
    write_surface,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
B = BREAKING


# -- loading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"surfaceFormat": 2, "tools": []}', "surfaceFormat 2; this sfn-mcp reads format 1"),
        ('{"tools": []}', "is not an sfn-mcp tool surface"),
        ('{"surfaceFormat": 1, "tools": [{"name": "a"}, {"name": "a"}]}', "appears twice"),
    ],
)
def test_bad_files_are_compile_errors_with_hints(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "surface.json"
    path.write_text(content)
    with pytest.raises(CompileError, match=message) as info:
        load_surface(str(path), manifest_path=path)
    assert info.value.hint


def test_a_package_directory_is_read_through_its_surface_json(tmp_path: Path) -> None:
    write_surface(tmp_path / "pkg" / "surface.json", base_surface())
    surface = load_surface(str(tmp_path / "pkg"), manifest_path=tmp_path / "x.json")
    assert sorted(surface.tools) == ["get_execution", "order_processing", "support_triage"]
    assert surface.label.endswith("surface.json")
    # the output folder holding one package reads as that package
    outer = load_surface(str(tmp_path), manifest_path=tmp_path / "x.json")
    assert sorted(outer.tools) == sorted(surface.tools)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompileError, match="without surface.json"):
        load_surface(str(tmp_path / "empty"), manifest_path=tmp_path / "x.json")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with three commits: no surface yet, surface v1, surface v2 (tagged v2)."""
    for variable in list(os.environ):
        if variable.startswith("GIT_"):  # e.g. GIT_DIR and GIT_INDEX_FILE inside a git hook
            monkeypatch.delenv(variable)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "sfn-mcp.toml").write_text('name = "ai_workflows"\noutput = "generated"\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before the surface")
    manifest = root / "generated" / "ai_workflows" / "surface.json"
    write_surface(manifest, base_surface())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    v2 = base_surface()
    edit(f"{DEFS}/Tier/enum", without("platinum"))(v2)
    add_tool(DAILY_ETL)(v2)
    write_surface(manifest, v2)
    git(root, "commit", "-q", "-am", "v2")
    git(root, "tag", "v2")
    return root


def run_diff(*args: str) -> Any:
    return CliRunner().invoke(diff, list(args))


def test_git_revisions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(repo / "sfn-mcp.toml")
    result = run_diff("HEAD~1", "HEAD", "--config", config, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["old"] == "HEAD~1:generated/ai_workflows/surface.json"
    assert [(c["tool"], c["code"]) for c in report["changes"]] == [
        ("daily_etl", "tool-added"),
        ("order_processing", "enum-value-removed"),
    ]
    assert report["breaking"] is True

    # a revision before the manifest existed: every tool is added, and a note says why
    result = run_diff("HEAD~2", "v2", "--config", config)
    assert result.exit_code == 0, result.output
    assert "note: HEAD~2 has no generated/ai_workflows/surface.json" in result.stdout
    assert result.stdout.count("[tool-added]") == 4
    assert result.stdout.endswith("0 breaking, 4 non-breaking changes\n")

    # NEW left out: the working tree, uncommitted changes included; from a subfolder, too
    manifest = repo / "generated" / "ai_workflows" / "surface.json"
    current = json.loads(manifest.read_text())
    current["tools"] = current["tools"][1:]
    write_surface(manifest, current)
    monkeypatch.chdir(repo / "generated")
    result = run_diff("main", "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    assert "[tool-removed]" in result.stdout
    assert "(working tree)" in result.stdout


def test_git_errors_exit_2_with_a_hint(repo: Path, tmp_path: Path) -> None:
    config = str(repo / "sfn-mcp.toml")
    result = run_diff("no-such-branch", "HEAD", "--config", config)
    assert result.exit_code == 2
    assert "error: 'no-such-branch' is neither an existing file or directory nor a revision" in (
        result.stderr
    )
    assert "hint: " in result.stderr
    assert "Traceback" not in result.output

    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    result = run_diff("main", "--manifest", str(elsewhere / "surface.json"))
    assert result.exit_code == 2
    assert "is not in a git repository" in result.stderr

    manifest = repo / "generated" / "ai_workflows" / "surface.json"
    manifest.write_text("<<<<<<< HEAD\n")
    git(repo, "commit", "-q", "-am", "broken")
    result = run_diff("HEAD", "HEAD~1", "--config", config)
    assert result.exit_code == 2
    assert "error: HEAD:generated/ai_workflows/surface.json is not valid JSON" in result.stderr
    assert "hint: regenerate it" in result.stderr


def test_a_path_wins_over_a_revision_of_the_same_name(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    git(repo, "branch", "v1", "HEAD~1")
    # v2 is a tag, and also a folder holding a surface with the status tool only
    v2 = base_surface()
    v2["tools"] = v2["tools"][:1]
    write_surface(repo / "v2" / "surface.json", v2)
    result = run_diff("v1", "v2", "--config", str(repo / "sfn-mcp.toml"))
    assert result.exit_code == 0, result.output
    assert "-> v2/surface.json" in result.stdout
    assert result.stdout.count("[tool-removed]") == 2
    result = run_diff("v1", "v2^{commit}", "--config", str(repo / "sfn-mcp.toml"))
    assert "[tool-added]" in result.stdout


# -- exit codes ----------------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> Callable[[Mutation], tuple[str, str]]:
    def make(mutation: Mutation) -> tuple[str, str]:
        new = base_surface()
        mutation(new)
        old_path = write_surface(tmp_path / "old.json", base_surface())
        new_path = write_surface(tmp_path / "new.json", new)
        return str(old_path), str(new_path)

    return make


@pytest.mark.parametrize(
    ("mutation", "fail_on", "exit_code"),
    [
        (edit(f"{DEFS}/Tier/enum", without("gold")), None, 0),
        (edit(f"{DEFS}/Tier/enum", without("gold")), "none", 0),
        (edit(f"{DEFS}/Tier/enum", without("gold")), "breaking", 1),
        (edit(f"{DEFS}/Tier/enum", plus("silver")), "breaking", 0),
        (edit(f"{DEFS}/Tier/enum", plus("silver")), "any", 1),
        (noop, "any", 0),
    ],
    ids=["default-none", "none", "breaking", "compatible-only", "any", "nothing"],
)
def test_fail_on(
    pair: Callable[[Mutation], tuple[str, str]],
    mutation: Mutation,
    fail_on: str | None,
    exit_code: int,
) -> None:
    old, new = pair(mutation)
    args = [old, new] + (["--fail-on", fail_on] if fail_on else [])
    result = run_diff(*args)
    assert result.exit_code == exit_code, result.output
    if exit_code == 1:
        assert f"(--fail-on {fail_on})" in result.stderr


def test_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"surfaceFormat": 9}')
    result = run_diff(str(bad), str(bad), "--manifest", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    good = write_surface(tmp_path / "good.json", base_surface())
    result = run_diff(str(good), "--manifest", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "missing.json does not exist" in result.stderr
    assert "hint: run `sfn-mcp generate` first" in result.stderr


# -- renderers and snapshots ---------------------------------------------------------------------


def snapshot_pair() -> tuple[Surface, Surface]:
    new = base_surface()
    also(
        edit(f"{DEFS}/Tier/enum", without("platinum")),
        put(f"{GIFT}/anyOf/0/maxLength", 100),
        put(f"{ORDER_IN}/properties/expedite/default", True),
        put("order_processing/stateMachine/definitionSha256", "b" * 64),
        put("order_processing/description", "Prices the order | reserves stock.\nThen ships it."),
        put("support_triage/name", "triage_ticket"),
        put(f"{CONFIRMATION}/properties/total/type", "string"),
        edit("/tools", lambda ts: [t for t in ts if t["name"] != "get_execution"]),
        add_tool(DAILY_ETL),
    )(new)
    old = parse_surface(base_surface(), label="main:generated/ai_workflows/surface.json")
    return old, parse_surface(new, label="generated/ai_workflows/surface.json")


RENDERERS = [("diff.txt", render_text), ("diff.md", render_markdown), ("diff.json", render_json)]


@pytest.mark.parametrize(("name", "render"), RENDERERS, ids=[name for name, _ in RENDERERS])
def test_snapshots(name: str, render: Callable[..., str]) -> None:
    old, new = snapshot_pair()
    rendered = render(compare(old, new), old=old, new=new)
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run UPDATE_SNAPSHOTS=1 pytest tests/test_diff.py")
    expected = path.read_text(encoding="utf-8")
    if rendered != expected:
        delta = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                f"{path} (snapshot)",
                "rendered",
            )
        )
        pytest.fail(
            f"the rendered {name} differs from {path}; if the change is intended, rerun with "
            f"UPDATE_SNAPSHOTS=1 and review the snapshot's diff:\n{delta}",
            pytrace=False,
        )


def test_empty_renderings() -> None:
    assert render_text([]) == "No changes to the tool surface.\n"
    assert "## ✅ Tool surface: No changes to the tool surface." in render_markdown([])
    assert json.loads(render_json([])) == {
        "breaking": False,
        "summary": {"breaking": 0, "nonBreaking": 0, "total": 0, "tools": []},
        "changes": [],
    }


def test_markdown_cells_are_escaped() -> None:
    change = Change("t", B, "x", "input.a|b", "one | two\nthree <b>four</b> *five*")
    table_row = render_markdown([change]).splitlines()[-1]
    assert table_row == (
        r"| 💥 breaking | x | `input.a\|b` | one \| two<br>three &lt;b>four&lt;/b> \*five\* |"
    )


# -- --list-rules --------------------------------------------------------------------------------


def test_list_rules_prints_the_table_in_each_format() -> None:
    result = run_diff("--list-rules")
    assert result.exit_code == 0, result.output
    assert result.stdout == rules_text()
    result = run_diff("--list-rules", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout == rules_markdown()
    result = run_diff("--list-rules", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["rules"]
    assert [row["id"] for row in listed] == [row.id for row in RULES]
    field_removed = next(row for row in listed if row["id"] == "field-removed")
    assert (field_removed["input"], field_removed["output"]) == ("breaking", "breaking")
    assert field_removed["variants"][0]["severity"] == "non-breaking"
    assert next(row for row in listed if row["id"] == "tool-added")["severity"] == "non-breaking"


def test_old_is_required_without_list_rules() -> None:
    result = run_diff()
    assert result.exit_code == 2
    assert "Missing argument 'OLD'" in result.stderr
    assert "Usage: diff [OPTIONS] OLD [NEW]" in result.stderr
    result = run_diff("--list-rules", "main")
    assert result.exit_code == 2
    assert "--list-rules takes no OLD or NEW" in result.stderr
