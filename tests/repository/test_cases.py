"""The repository reader, one case folder each (see ``helpers``): the records it makes from the
templates or files, or the diagnostics it gives. ``UPDATE_CASES=1`` rewrites the expectations;
review their diff."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from sfn_mcp.pipeline import compile_records
from sfn_mcp.read.records import load_records
from tests.repository.helpers import EXPECTED, cases, run_case, settings_of

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path) -> None:
    got = run_case(case).files()
    if os.environ.get("UPDATE_CASES") == "1":
        for name in EXPECTED:
            (case / name).unlink(missing_ok=True)
        for name, text in got.items():
            (case / name).write_text(text, encoding="utf-8")
        return
    expected = {
        name: (case / name).read_text(encoding="utf-8")
        for name in EXPECTED
        if (case / name).exists()
    }
    assert got == expected
    assert "Traceback" not in "".join(got.values())


def test_every_case_has_an_expectation() -> None:
    assert CASES
    for case in CASES:
        assert (case / "expected.json").exists() or (case / "expected-error.txt").exists(), case


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if (c / "expected.json").exists()],
    ids=[c.name for c in CASES if (c / "expected.json").exists()],
)
def test_what_a_case_reads_compiles_to_one_tool_per_machine(case: Path) -> None:
    """The rest of the pipeline takes the records as it takes the account's: a package with a
    tool for each machine, running exactly the ARN the template deploys."""
    settings = settings_of(case)
    machines = load_records((case / "expected.json").read_text(encoding="utf-8"))
    compiled = compile_records(replace(settings, output=Path("/nonexistent")), machines)
    surface = json.loads(compiled.files["surface.json"])
    runs = sorted(
        (tool["stateMachine"]["arn"], tool["stateMachine"].get("targetArn") or "")
        for tool in surface["tools"]
        if tool["stateMachine"]
    )
    assert runs == sorted((m.arn, m.target_arn) for m in machines)
