"""One diagnostic type for every stage: an error, a warning or a note that names the machine,
schema or setting it is about, with a hint saying what to do next.

Stages collect diagnostics in a ``Diagnostics`` list and raise ``CompileError`` (which carries its
errors) when they cannot go on; the command line prints all of them, in one place
(``sfn_mcp.cli.report``). Progress lines go through a ``Progress`` callback for the same reason:
no stage prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

Level = Literal["error", "warning", "note"]
LEVELS: tuple[Level, ...] = ("error", "warning", "note")


@dataclass(frozen=True)
class Diagnostic:
    level: Level
    message: str  # names what it is about: state machine 'x', schema r/n v3, setting output …
    hint: str = ""  # what to do next

    def render(self) -> str:
        text = f"{self.level}: {self.message}"
        return f"{text}\nhint: {self.hint}" if self.hint else text


@dataclass
class Diagnostics:
    """The diagnostics of one run, in the order they were found."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, level: Level, message: str, hint: str = "") -> None:
        self.items.append(Diagnostic(level, message, hint))

    def error(self, message: str, hint: str = "") -> None:
        self.add("error", message, hint)

    def warning(self, message: str, hint: str = "") -> None:
        self.add("warning", message, hint)

    def note(self, message: str, hint: str = "") -> None:
        self.add("note", message, hint)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def of_level(self, level: Level) -> list[Diagnostic]:
        return [d for d in self.items if d.level == level]

    def raise_errors(self, *, strict: bool = False) -> None:
        """Stop the run when any error was collected, every error at once; ``strict`` counts
        warnings as errors. The warnings and notes travel along, to be shown first."""
        stop: tuple[Level, ...] = ("error", "warning") if strict else ("error",)
        errors = [replace(d, level="error") for d in self.items if d.level in stop]
        if errors:
            rest = [d for d in self.items if d.level not in stop]
            raise CompileError(errors, context=rest)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)


class CompileError(Exception):
    """A problem with the input or the environment that stops the run, phrased for the user.

    It carries one error diagnostic per problem (several machines can be wrong at once); ``hint``
    says what to do next when the problems share one.
    """

    def __init__(
        self,
        problems: str | Iterable[str | Diagnostic],
        hint: str = "",
        *,
        context: Iterable[Diagnostic] = (),
    ) -> None:
        items = [problems] if isinstance(problems, str) else list(problems)
        self.diagnostics = [
            item if isinstance(item, Diagnostic) else Diagnostic("error", item) for item in items
        ]
        self.hint = hint
        self.context = list(context)  # the run's warnings and notes, shown before the errors
        super().__init__("\n".join(self.problems))

    @property
    def problems(self) -> list[str]:
        return [d.message for d in self.diagnostics]

    def render(self) -> str:
        if len(self.diagnostics) == 1:
            only = self.diagnostics[0]
            text = f"error: {only.message}"
            hints = [h for h in (only.hint, self.hint) if h]
        else:
            text = f"error: {len(self.diagnostics)} problems\n" + "\n".join(
                f"  - {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
                for d in self.diagnostics
            )
            hints = [self.hint] if self.hint else []
        return text + "".join(f"\nhint: {hint}" for hint in hints)


# Progress of a long step: a line of text, or a count within a labelled step.
Progress = Callable[[str], None]
Counter = Callable[[str, int, int], None]


def quiet(_message: str) -> None:
    """A Progress that shows nothing (library use, tests)."""


def quiet_count(_label: str, _done: int, _total: int) -> None:
    """A Counter that shows nothing."""
