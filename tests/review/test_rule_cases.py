"""One case folder per breaking-change rule: each pair of surfaces gives exactly its expected
findings, every rule of the table has a case (on each side where the side matters), and the
equivalent pairs give none.

After an intended change, rerun with ``UPDATE_CASES=1`` and review the diff of the expected.json
files.
"""

from __future__ import annotations

import json
import os

import pytest

from sfn_mcp.review.rules import RULES, RULES_BY_ID
from tests.review.helpers import CASE_FILES, CASES, Case, equivalent_cases, rows, rule_cases

RULE_CASES = rule_cases()
EQUIVALENT_CASES = equivalent_cases()
ALL_CASES = RULE_CASES + EQUIVALENT_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_case(case: Case) -> None:
    got = rows(case.run())
    if os.environ.get("UPDATE_CASES") == "1":
        case.write_expected(got)
        return
    expected = case.expected()
    assert got == expected, json.dumps(got, indent=2, ensure_ascii=False)
    assert all(row["message"] and "\n" not in row["message"] for row in got)


@pytest.mark.parametrize("case", RULE_CASES, ids=[case.name for case in RULE_CASES])
def test_a_case_shows_its_rule(case: Case) -> None:
    assert any(row["rule"] == case.rule for row in case.expected())


@pytest.mark.parametrize("case", EQUIVALENT_CASES, ids=[case.name for case in EQUIVALENT_CASES])
def test_an_equivalent_pair_is_two_spellings(case: Case) -> None:
    assert case.expected() == []
    old, new = (case.folder / name for name in ("old.json", "new.json"))
    assert old.read_text(encoding="utf-8") != new.read_text(encoding="utf-8")


def test_every_rule_has_its_case_folder_and_every_folder_is_a_rule() -> None:
    folders = {path.name for path in CASES.iterdir() if path.is_dir()}
    assert folders == set(RULES_BY_ID), (
        f"missing: {sorted(set(RULES_BY_ID) - folders)}; not rules: "
        f"{sorted(folders - set(RULES_BY_ID))}"
    )
    for row in RULES:
        assert (CASES / row.id / "old.json").is_file(), f"cases/{row.id}/ has no case of its own"


def test_case_folders_hold_exactly_a_pair_and_its_findings() -> None:
    for case in ALL_CASES:
        files = {path.name for path in case.folder.iterdir() if path.is_file()}
        assert files == set(CASE_FILES), f"{case.name}: {sorted(files)}"
        nested = [path for path in case.folder.iterdir() if path.is_dir()]
        assert not nested or case.name == case.rule, f"{case.name} nests {nested}"


def test_the_old_table_moved_into_folders() -> None:
    assert len(ALL_CASES) >= 100


def test_the_cases_emit_only_rules_of_the_table_and_every_one_of_them() -> None:
    emitted = {row["rule"] for case in ALL_CASES for row in rows(case.run())}
    assert emitted <= set(RULES_BY_ID), sorted(emitted - set(RULES_BY_ID))
    assert emitted == set(RULES_BY_ID), f"never emitted: {sorted(set(RULES_BY_ID) - emitted)}"


def _side(path: str) -> str | None:
    for side in ("input", "output"):
        if path == side or path.startswith((f"{side}.", f"{side}[", f"{side}<")):
            return side
    return None


def test_each_side_of_a_side_dependent_rule_has_a_case() -> None:
    """Where the table gives a rule two severities (or a variant), the cases show each one."""
    seen = {
        (row["rule"], _side(row["path"]), row["severity"])
        for case in RULE_CASES
        for row in case.expected()
    }
    for rule in RULES:
        if not rule.sided:
            continue
        if rule.input != rule.output or rule.variants:
            assert (rule.id, "input", rule.input) in seen, f"{rule.id} on an input"
            assert (rule.id, "output", rule.output) in seen, f"{rule.id} on an output"
        for variant in rule.variants:
            assert (rule.id, variant.side, variant.severity) in seen, f"{rule.id} {variant.name}"


def test_findings_carry_the_severity_of_their_rule_and_side() -> None:
    for case in RULE_CASES:
        for row in case.expected():
            rule = RULES_BY_ID[row["rule"]]
            side = _side(row["path"]) if rule.area == "schema" else None
            allowed = {rule.severity(side)} if side or not rule.sided else set()
            allowed |= {v.severity for v in rule.variants if v.side == side}
            assert row["severity"] in allowed, f"{case.name}: {row}"
