"""The golden record: ``generated/`` is what the examples compile to, from their template and from
the account they are deployed to, byte for byte.

The read stage's output for the examples is recorded in ``tests/golden/`` so that the rest of the
pipeline (models, IR, render, surface) is checked against ``generated/`` byte for byte in the fast
unit suite. Two reads keep the recording honest: ``examples/template.yaml`` read from the
repository (no AWS) and the local AWS deployed from that template must both read back exactly as
recorded (``UPDATE_GOLDEN=1`` rewrites it from the local AWS). The command line is run once with
no AWS environment at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from localaws.stack import LocalAws
from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.pipeline import compile_package, compile_records, read_account
from sfn_mcp.read import Aws
from sfn_mcp.read.records import dump_records, load_records
from sfn_mcp.read.repository import read_repository
from sfn_mcp.review.version import versioned_files
from sfn_mcp.settings import Settings, load_settings
from sfn_mcp.write import read_tree
from tests.helpers import SFN_MCP

ROOT = Path(__file__).parents[1]
RECORDS = Path(__file__).parent / "golden" / "ai_workflows.records.json"


def repository_settings(**overrides: str) -> Settings:
    """The repository's own [tool.sfn-mcp] settings, whatever the shell exports."""
    return load_settings(overrides, config_path=ROOT / "pyproject.toml", env={}, cwd=ROOT)


def test_recorded_examples_compile_to_the_committed_package() -> None:
    settings = repository_settings()
    compiled = compile_records(settings, load_records(RECORDS.read_text(encoding="utf-8")))
    target = settings.output / settings.name
    fresh = {path: text.encode() for path, text in versioned_files(compiled, target).items()}
    committed = read_tree(target)
    assert sorted(fresh) == sorted(committed), "files differ: run `make generate` and commit"
    stale = [path for path in sorted(fresh) if fresh[path] != committed[path]]
    assert stale == [], f"generated/ is stale in {stale}: run `make generate` and commit"


def test_records_round_trip() -> None:
    text = RECORDS.read_text(encoding="utf-8")
    assert dump_records(load_records(text)) == text


def test_the_template_reads_as_recorded() -> None:
    settings = repository_settings()
    assert settings.source == "cloudformation"
    diagnostics = Diagnostics()
    read = dump_records(read_repository(settings, diagnostics))
    assert [d.level for d in diagnostics] == ["note"] * 4  # the four schemas' first version
    assert read == RECORDS.read_text(encoding="utf-8"), (
        "examples/template.yaml changed: run `make generate` and commit (and UPDATE_GOLDEN=1 "
        "on the integration test to rewrite the record)"
    )


def test_generate_needs_no_aws_environment_at_all(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null"}
    settings = repository_settings()
    # over a copy of the committed package, as `generate` runs in the repository: the version
    # is decided against it (a package generated from nothing starts at 1.0.0)
    shutil.copytree(settings.output / settings.name, tmp_path / settings.name)
    result = subprocess.run(
        [str(SFN_MCP), "generate", "-o", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Reading 1 template(s)" in result.stderr
    assert read_tree(tmp_path / settings.name) == read_tree(settings.output / settings.name)


def test_the_local_aws_deployed_from_the_template_compiles_to_the_same_bytes(
    local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in local_aws.env.items():
        monkeypatch.setenv(key, value)
    account = repository_settings(source="account")
    target = account.output / account.name
    from_account = versioned_files(compile_package(account), target)
    from_template = versioned_files(compile_package(repository_settings()), target)
    assert from_account == from_template
    committed = read_tree(target)
    assert {path: text.encode() for path, text in from_account.items()} == committed


def test_the_local_aws_reads_back_as_recorded(
    local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in local_aws.env.items():
        monkeypatch.setenv(key, value)
    settings = repository_settings(source="account", region="us-east-1")
    recorded = dump_records(read_account(settings, Diagnostics(), Aws(settings)))
    if os.environ.get("UPDATE_GOLDEN"):
        RECORDS.write_text(recorded, encoding="utf-8")
    assert recorded == RECORDS.read_text(encoding="utf-8"), (
        "the examples changed: rerun with UPDATE_GOLDEN=1, then `make generate`, and commit"
    )
