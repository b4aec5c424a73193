"""Case folders of the repository reader: ``cases/<case>/settings.toml`` holds the settings
(the keys of ``[tool.sfn-mcp]``, read by the real loader; paths relative to the case folder),
beside the templates and files it reads; ``expected.json`` holds the records (``dump_records``) and
``expected-diagnostics.txt`` the warnings and notes, or ``expected-error.txt`` everything
rendered when the read has errors. ``UPDATE_CASES=1`` rewrites the expectations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.records import dump_records
from sfn_mcp.read.repository import read_repository
from sfn_mcp.settings import Settings, load_settings

CASES_DIR = Path(__file__).parent / "cases"
EXPECTED = ("expected.json", "expected-diagnostics.txt", "expected-error.txt")


def settings_of(case: Path) -> Settings:
    """The Settings a case's settings.toml gives, read as ``--config settings.toml`` would (its
    top level holds the keys of ``[tool.sfn-mcp]``; paths relative to the case folder)."""
    return load_settings({}, config_path=case / "settings.toml", env={}, cwd=case)


@dataclass(frozen=True)
class Outcome:
    records: str  # "" when the read has errors
    diagnostics: str  # every diagnostic rendered (with the errors when there are any)

    def files(self) -> dict[str, str]:
        if not self.records:
            return {"expected-error.txt": self.diagnostics}
        files = {"expected.json": self.records}
        if self.diagnostics:
            files["expected-diagnostics.txt"] = self.diagnostics
        return files


def run_case(case: Path) -> Outcome:
    diagnostics = Diagnostics()
    try:
        machines = read_repository(settings_of(case), diagnostics)
    except CompileError as exc:
        rendered = [d.render() for d in diagnostics] + [exc.render()]
        return Outcome("", "\n".join(rendered) + "\n")
    text = "\n".join(d.render() for d in diagnostics) + "\n" if diagnostics.items else ""
    if diagnostics.of_level("error"):
        return Outcome("", text)
    return Outcome(dump_records(machines), text)


def cases() -> list[Path]:
    return sorted(p for p in CASES_DIR.iterdir() if (p / "settings.toml").is_file())
