"""``sfn-mcp check --format text|json|markdown|github``, without AWS: the examples compile from
their template (``check``) and the committed package is imported (``check --offline``) in a copy
of this repository's configuration, generated there, then made stale on purpose.
``--against-account`` renders the same ``CheckResult`` (tested here on one built by hand, and
against the local AWS in test_check.py).

Snapshots live in tests/snapshots/check-*.{txt,json,md,github}; after an intended change, rerun
with ``UPDATE_SNAPSHOTS=1`` and review the diff of those files.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sfn_mcp.cli.check import check
from sfn_mcp.cli.generate import generate
from sfn_mcp.review.check import CheckResult, Problem
from sfn_mcp.review.render.check import CHECK_RENDERERS, render_check_github
from sfn_mcp.review.rules import BREAKING, NON_BREAKING
from sfn_mcp.review.surface import Change

ROOT = Path(__file__).parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots"
EXTENSIONS = {"text": "txt", "json": "json", "markdown": "md", "github": "github"}
PACKAGE = "ai_workflows"


def config_table() -> str:
    """This repository's own [tool.sfn-mcp] table, so the copy compiles what generated/ holds."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table = re.search(r"^\[tool\.sfn-mcp\]\n.*?(?=^\[)", text, re.MULTILINE | re.DOTALL)
    assert table, "pyproject.toml has no [tool.sfn-mcp] table"
    return table.group(0)


def without_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail


@pytest.fixture(scope="module")
def generated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples and this repository's configuration, and the package generated from them by
    this sfn-mcp (not copied from generated/, which may lag behind the working tree)."""
    root = tmp_path_factory.mktemp("generated") / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "examples", root / "examples", ignore=ignore)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "copy"\nversion = "0"\n\n' + config_table(), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)
        without_aws(monkeypatch)
        done = CliRunner().invoke(generate, [])
    assert done.exit_code == 0, done.output
    return root


@pytest.fixture
def project(generated_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of ``generated_project`` to make stale, as the current directory."""
    root = tmp_path / "project"
    shutil.copytree(generated_project, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(root)
    without_aws(monkeypatch)
    return root


def run_check(*args: str) -> Result:
    return CliRunner().invoke(check, list(args))


def normalized(text: str, project: Path) -> str:
    return text.replace(str(project), "<project>")


def assert_snapshot(name: str, rendered: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name}")
    expected = path.read_text(encoding="utf-8")
    if rendered != expected:
        delta = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                str(path),
                "rendered",
            )
        )
        pytest.fail(f"{path.name} differs (UPDATE_SNAPSHOTS=1 after an intended change):\n{delta}")


def edit_json(path: Path, edit: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def tool(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in data["tools"] if t["name"] == name)
    return found


def make_source_stale(project: Path) -> None:
    """The committed package before the template's changes: an optional currency (the template
    requires it), another description, a missing file and an extra one."""
    package = project / "generated" / PACKAGE

    def older(data: dict[str, Any]) -> None:
        order = tool(data, "order_processing")
        order["inputSchema"]["required"].remove("currency")
        tool(data, "daily_etl")["description"] = "Runs the nightly ETL."

    edit_json(package / "surface.json", older)
    (package / "requirements.txt").unlink()
    (package / "NOTES.txt").write_text("by hand\n", encoding="utf-8")


def make_code_edited(project: Path) -> None:
    """Hand edits the offline check catches: a hint flipped in tools.py, a wait changed, a runtime
    file edited."""
    package = project / "generated" / PACKAGE
    tools = package / "tools.py"
    code = tools.read_text(encoding="utf-8")
    edited = re.sub(r"read_only=True", "read_only=False", code, count=1)
    edited = re.sub(r"max_wait_seconds=([0-9.]+)", "max_wait_seconds=1234.0", edited, count=1)
    assert edited != code
    tools.write_text(edited, encoding="utf-8")
    runtime = package / "_runtime" / "execution.py"
    runtime.write_text(runtime.read_text(encoding="utf-8") + "\n# local tweak\n", encoding="utf-8")


@pytest.mark.parametrize("output_format", list(EXTENSIONS))
def test_up_to_date_in_every_format(project: Path, output_format: str) -> None:
    for args, kind in (((), "source"), (("--offline",), "offline")):
        result = run_check(*args, "--format", output_format)
        assert result.exit_code == 0, result.output
        out = normalized(result.stdout, project)
        if output_format == "json":
            report = json.loads(out)
            assert report["upToDate"] is True and report["check"] == kind
            assert report["target"] == f"<project>/generated/{PACKAGE}"
            assert report["changes"] == report["files"] == report["problems"] == []
            assert report["hint"] is None
        elif output_format == "github":
            assert out.startswith("::notice title=sfn-mcp check::generated/ai_workflows")
            assert out.count("\n") == 1
        else:
            assert "(4 workflow tool(s))" in out


def test_text_is_the_report_as_before(project: Path) -> None:
    make_source_stale(project)
    text = run_check()
    assert text.exit_code == 1, text.output
    explicit = run_check("--format", "text")
    assert explicit.stdout == text.stdout
    out = normalized(text.stdout, project)
    assert out.startswith(
        "<project>/generated/ai_workflows is stale: the templates now compile(s) to a different"
    )
    assert "order_processing: 1 breaking" in out and "[field-now-required]" in out
    assert "\nFiles that differ:\n" in out
    for line in ("changed: surface.json", "missing: requirements.txt", "extra: NOTES.txt"):
        assert f"\n  {line}\n" in out
    assert out.endswith(
        "To fix: run `sfn-mcp generate`, review the changes above and commit them.\n"
    )


@pytest.mark.parametrize("output_format", list(EXTENSIONS))
def test_stale_source_snapshots(project: Path, output_format: str) -> None:
    make_source_stale(project)
    result = run_check("--format", output_format)
    assert result.exit_code == 1, result.output
    assert_snapshot(f"check-stale.{EXTENSIONS[output_format]}", normalized(result.stdout, project))


@pytest.mark.parametrize("output_format", list(EXTENSIONS))
def test_offline_snapshots(project: Path, output_format: str) -> None:
    make_code_edited(project)
    result = run_check("--offline", "--format", output_format)
    assert result.exit_code == 1, result.output
    assert_snapshot(
        f"check-offline.{EXTENSIONS[output_format]}", normalized(result.stdout, project)
    )


def test_json_carries_what_the_text_says(project: Path) -> None:
    make_source_stale(project)
    text = run_check().stdout
    report = json.loads(run_check("--format", "json").stdout)
    assert report["checkFormat"] == 1 and report["check"] == "source"
    assert report["upToDate"] is False
    assert text.startswith(report["headline"] + "\n")
    assert report["old"] == f"committed {PACKAGE}/surface.json"
    assert report["new"] == "the templates now"
    found = [(c["tool"], c["code"], c["severity"]) for c in report["changes"]]
    assert ("daily_etl", "description-changed", NON_BREAKING) in found
    assert ("order_processing", "field-now-required", BREAKING) in found
    summary = report["summary"]
    assert (summary["breaking"], summary["total"]) == (1, len(found))
    assert {"daily_etl", "order_processing"} <= set(summary["tools"])
    for row in (
        {"path": "surface.json", "status": "changed"},
        {"path": "requirements.txt", "status": "missing"},
        {"path": "NOTES.txt", "status": "extra"},
    ):
        assert row in report["files"]
    for row in report["files"]:
        assert f"  {row['status']}: {row['path']}\n" in text
    for change in report["changes"]:
        assert f"[{change['code']}]" in text
    assert report["problems"] == []
    assert f"To fix: {report['hint']}.\n" in text

    make_code_edited(project)
    offline_text = run_check("--offline").stdout
    offline = json.loads(run_check("--offline", "--format", "json").stdout)
    assert offline["check"] == "offline" and offline["upToDate"] is False
    assert any(c["code"] == "annotation-changed" for c in offline["changes"])
    for problem in offline["problems"]:
        where = f"{problem['tool']}: " if problem["tool"] else ""
        assert f"- {where}{problem['message']}\n" in offline_text
    files = {p["file"] for p in offline["problems"]}
    assert {"tools.py", "_runtime/execution.py"} <= files


def test_github_annotations_name_files_relative_to_the_checkout(project: Path) -> None:
    make_source_stale(project)
    lines = run_check("--format", "github").stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert errors[0].startswith(
        "::error file=generated/ai_workflows/surface.json,title=sfn-mcp check%3A breaking change "
        "(field-now-required)::order_processing: input.currency: "
    )
    assert any(
        w.startswith("::warning file=generated/ai_workflows/surface.json,") for w in warnings
    )
    assert any("file=generated/ai_workflows/NOTES.txt," in w for w in warnings)
    # the last line sums it up, and fails the step's annotations as an error
    assert lines[-1].startswith("::error title=sfn-mcp check::")
    assert re.search(r"1 breaking, \d+ non-breaking changes; \d+ file\(s\) differ", lines[-1])


def test_github_escapes_workflow_command_characters() -> None:
    change = Change("t", BREAKING, "type-changed", "input.a", "was 100%\nnow: a, b")
    result = CheckResult(
        False,
        "",
        [change],
        target=Path("/w/generated/p"),
        headline="stale",
        problems=[
            Problem("tools.py, line 1: 50% off", tool="t", file="tools.py"),
            Problem("error: cannot read\nhint: retry"),
        ],
        hint="regenerate",
    )
    out = render_check_github(result, root=Path("/w"))
    # a change is one line, as in the text; data escapes %, CR and LF; properties also : and ,
    assert "::t: input.a: was 100%25 now: a, b [type-changed]" in out
    assert "::error title=sfn-mcp check::error: cannot read%0Ahint: retry\n" in out
    assert (
        "::error file=generated/p/tools.py,title=sfn-mcp check::t: tools.py, line 1: 50%25 off"
        in out
    )
    assert "title=sfn-mcp check%3A breaking change (type-changed)::" in out


def test_against_account_results_render_in_every_format() -> None:
    """--against-account's findings are problems per tool (no surface diff, no files)."""
    result = CheckResult(
        False,
        "generated/p: what is deployed in eu-west-1 differs from the reviewed package:\n"
        "  refund: type is EXPRESS, reviewed STANDARD\n\nTo fix: deploy what was reviewed.\n",
        kind="against-account",
        target=Path("/w/generated/p"),
        headline="generated/p: what is deployed in eu-west-1 differs from the reviewed package:",
        problems=[Problem("type is EXPRESS, reviewed STANDARD", tool="refund")],
        hint="deploy what was reviewed",
    )
    rendered = {name: render(result, root=Path("/w")) for name, render in CHECK_RENDERERS.items()}
    assert rendered["text"] == result.report
    report = json.loads(rendered["json"])
    assert report["check"] == "against-account" and report["changes"] == []
    assert report["problems"] == [
        {"tool": "refund", "file": None, "message": "type is EXPRESS, reviewed STANDARD"}
    ]
    assert "- refund: type is EXPRESS, reviewed STANDARD" in rendered["markdown"]
    assert "only generated code differs" not in rendered["markdown"]
    assert rendered["github"].splitlines() == [
        "::error title=sfn-mcp check::refund: type is EXPRESS, reviewed STANDARD",
        "::error title=sfn-mcp check::generated/p: what is deployed in eu-west-1 differs from "
        "the reviewed package (1 problem(s)). To fix: deploy what was reviewed.",
    ]


def test_errors_stay_on_stderr_and_github_also_annotates_them(project: Path) -> None:
    (project / "generated" / PACKAGE / "surface.json").unlink()
    plain = run_check("--offline", "--format", "json")
    assert plain.exit_code == 2 and plain.stdout == ""
    assert "error:" in plain.stderr and "surface.json does not exist" in plain.stderr
    github = run_check("--offline", "--format", "github")
    assert github.exit_code == 2
    assert github.stdout.startswith("::error title=sfn-mcp check::")
    assert "surface.json does not exist (hint%3A" not in github.stdout  # data is not a property
    assert "does not exist (hint: generate the package first" in github.stdout
