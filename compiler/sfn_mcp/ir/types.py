"""The intermediate representation: a typed, immutable description of the package to render.

Templates read only this; every decision is made before it exists (``build``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sfn_mcp.ir.approvals import ApprovalStep
from sfn_mcp.read.records import INFERRED, SchemaSource
from sfn_mcp_runtime.contract import DEFAULT_POLL_INTERVAL_SECONDS, Hints

Mode = Literal["envelope", "detail", "plain", "free-form"]

__all__ = [
    "ApprovalStep",
    "Hints",
    "ModelModule",
    "Mode",
    "Package",
    "Tool",
    "ToolInput",
    "ToolOutput",
]


@dataclass(frozen=True)
class ModelModule:
    """One generated module under ``models/``: the Pydantic classes of one schema version."""

    module: str
    source: str
    schema: SchemaSource


@dataclass(frozen=True)
class ToolInput:
    model_class: str
    module: str | None  # None: the runtime's FreeFormInput
    mode: Mode
    event_source: str = ""
    event_detail_type: str = ""
    untyped_reason: str = ""  # free-form only: why there is no model ("no schema tag" …)

    @property
    def annotation(self) -> str:
        """How tools.py names the model class (modules are imported whole, so no class clashes)."""
        return f"models.{self.module}.{self.model_class}" if self.module else self.model_class


@dataclass(frozen=True)
class ToolOutput:
    """The model class that types a SUCCEEDED execution's output (from the output schema tag)."""

    model_class: str
    module: str

    @property
    def annotation(self) -> str:
        return f"models.{self.module}.{self.model_class}"


@dataclass(frozen=True)
class Tool:
    name: str
    function: str
    constant: str
    title: str
    description: str
    machine_name: str
    machine_arn: str
    workflow_type: Literal["STANDARD", "EXPRESS"]
    max_wait_seconds: float
    input: ToolInput
    schema: SchemaSource | None
    output: ToolOutput | None
    output_schema: SchemaSource | None
    hints: Hints
    stop_on_cancel: bool
    definition_sha256: str
    hint_reasons: tuple[str, ...] = ()  # the hints the definition decided, and why
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    confirm: bool = False  # the user confirms each run first (elicitation)
    approval_steps: tuple[ApprovalStep, ...] = ()  # where the workflow waits for a person
    target: str = ""  # "" (the machine as it is), "alias:NAME" or "version:N"
    target_arn: str = ""  # the alias's or version's ARN, which executions start
    version_arn: str = ""  # the version whose definition was compiled
    tags: tuple[tuple[str, str], ...] = ()  # the machine's tags, sorted: the server's --tag filter

    @property
    def poll_interval_override(self) -> float | None:
        """The task poll interval tools.py must state: a STANDARD workflow's, when it is not
        the runtime's default (EXPRESS workflows never become tasks)."""
        standard = self.workflow_type == "STANDARD"
        default = self.poll_interval_seconds == DEFAULT_POLL_INTERVAL_SECONDS
        return self.poll_interval_seconds if standard and not default else None

    @property
    def takes_idempotency_key(self) -> bool:
        """STANDARD executions are idempotent by name; EXPRESS ones are not."""
        return self.workflow_type == "STANDARD"

    @property
    def input_summary(self) -> str:
        """One line on where the input comes from, for the CLI report and the README."""
        if self.schema is None:
            summary = f"free-form input ({self.input.untyped_reason or 'no schema'})"
        elif self.schema.ref.registry == INFERRED:
            summary = f"{self.input.model_class} inferred from the definition"
        else:
            summary = (
                f"{self.input.model_class} from {self.schema.ref.registry}/{self.schema.ref.name} "
                f"v{self.schema.version} ({self.schema.type})"
            )
        if self.input.mode == "envelope":
            summary += ", sent as the detail of an EventBridge event"
        if self.output:
            summary += f"; output typed by {self.output.model_class}"
        return summary


@dataclass(frozen=True)
class Package:
    name: str
    compiler_version: str
    selection: str
    tools: tuple[Tool, ...]
    modules: tuple[ModelModule, ...]
    client_profile: str = "portable"  # the form of the published input schemas
    surface: str = "all"  # what tools/list offers by default: every tool, or the search tools

    @property
    def server_name(self) -> str:
        return self.name.replace("_", "-")
