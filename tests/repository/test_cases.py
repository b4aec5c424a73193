"""The repository reader, one case folder each (see ``helpers``): the records it makes from the
templates or files, or the diagnostics it gives. ``UPDATE_CASES=1`` rewrites the expectations;
review their diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.repository.helpers import EXPECTED, cases, run_case

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
