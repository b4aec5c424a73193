"""Case folders of the repository reader: ``cases/<case>/settings.toml`` describes the Settings
(the keys of ``[tool.sfn-mcp]``, paths relative to the case folder), beside the templates and
files it reads; ``expected.json`` holds the records (``dump_records``) and
``expected-diagnostics.txt`` the warnings and notes, or ``expected-error.txt`` everything
rendered when the read has errors. ``UPDATE_CASES=1`` rewrites the expectations."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.records import dump_records
from sfn_mcp.read.repository import read_repository
from sfn_mcp.settings import ResourceSettings, SchemaFileSettings, Settings, WorkflowSettings

CASES_DIR = Path(__file__).parent / "cases"
EXPECTED = ("expected.json", "expected-diagnostics.txt", "expected-error.txt")


def _key(name: str) -> str:
    return name.replace("-", "_")


def settings_of(case: Path) -> Settings:
    """The Settings a case's settings.toml describes (its own small reader: the configuration
    file's parsing is tested with the settings)."""
    config = case / "settings.toml"
    raw: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8"))
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "templates":
            values["templates"] = tuple((case / v).resolve() for v in value)
        elif key == "state-machines":
            values["state_machines"] = tuple(value)
        elif key == "tag":
            values["tag"] = tuple(value.split("=", 1))
        elif key == "resources":
            values["resources"] = {
                logical_id: ResourceSettings(
                    **{
                        _key(k): (case / v).resolve() if k == "definition-file" else v
                        for k, v in table.items()
                    }
                )
                for logical_id, table in value.items()
            }
        elif key == "schemas":
            values["schemas"] = {
                arn: SchemaFileSettings(
                    **{_key(k): (case / v).resolve() if k == "file" else v for k, v in t.items()}
                )
                for arn, t in value.items()
            }
        elif key == "workflows":
            values["workflows"] = {
                name: WorkflowSettings(
                    **{
                        _key(k): (case / v).resolve() if k == "definition-file" else v
                        for k, v in table.items()
                    }
                )
                for name, table in value.items()
            }
        else:
            values[_key(key)] = value
    return Settings(config_file=config, **values)


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
