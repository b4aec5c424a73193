"""The golden record: ``generated/`` is what the examples compile to.

The read stage's output for the examples is recorded in ``tests/golden/`` so that the rest of the
pipeline (models, IR, render, surface) is checked against ``generated/`` byte for byte in the fast
unit suite, with no local AWS. The integration test keeps the recording honest: the local AWS,
seeded from ``examples/``, must still read back exactly as recorded (``UPDATE_GOLDEN=1`` rewrites
it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localaws.stack import LocalAws
from sfn_mcp.pipeline import compile_records, read_account
from sfn_mcp.read import Aws
from sfn_mcp.read.records import dump_records, load_records
from sfn_mcp.settings import Settings, load_settings
from sfn_mcp.write import read_tree

ROOT = Path(__file__).parents[1]
RECORDS = Path(__file__).parent / "golden" / "ai_workflows.records.json"


def repository_settings(**overrides: str) -> Settings:
    """The repository's own [tool.sfn-mcp] settings, whatever the shell exports."""
    return load_settings(overrides, config_path=ROOT / "pyproject.toml", env={}, cwd=ROOT)


def test_recorded_examples_compile_to_the_committed_package() -> None:
    settings = repository_settings()
    compiled = compile_records(settings, load_records(RECORDS.read_text(encoding="utf-8")))
    fresh = {path: text.encode() for path, text in compiled.files.items()}
    committed = read_tree(settings.output / settings.name)
    assert sorted(fresh) == sorted(committed), "files differ: run `make generate` and commit"
    stale = [path for path in sorted(fresh) if fresh[path] != committed[path]]
    assert stale == [], f"generated/ is stale in {stale}: run `make generate` and commit"


def test_records_round_trip() -> None:
    text = RECORDS.read_text(encoding="utf-8")
    assert dump_records(load_records(text)) == text


def test_the_local_aws_reads_back_as_recorded(
    local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in local_aws.env.items():
        monkeypatch.setenv(key, value)
    settings = repository_settings(region="us-east-1")
    recorded = dump_records(read_account(settings, Aws(settings)))
    if os.environ.get("UPDATE_GOLDEN"):
        RECORDS.write_text(recorded, encoding="utf-8")
    assert recorded == RECORDS.read_text(encoding="utf-8"), (
        "the examples changed: rerun with UPDATE_GOLDEN=1, then `make generate`, and commit"
    )
