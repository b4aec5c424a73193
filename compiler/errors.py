"""The one error type the compiler raises for bad input: the CLI prints it without a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import click


class CompileError(Exception):
    """A problem with the input or the environment, phrased for the user.

    ``problems`` holds one line per problem (several machines can be wrong at once);
    ``hint`` says what to do next.
    """

    def __init__(self, problems: str | list[str], hint: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.hint = hint
        super().__init__("\n".join(self.problems))

    def render(self) -> str:
        if len(self.problems) == 1:
            text = f"error: {self.problems[0]}"
        else:
            text = f"error: {len(self.problems)} problems\n" + "\n".join(
                f"  - {problem}" for problem in self.problems
            )
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


@contextlib.contextmanager
def reported(exit_code: int) -> Iterator[None]:
    """For commands: a CompileError is printed and exits ``exit_code``; any other exception is a
    bug of ours: one line, how to get the traceback, and exit 2."""
    try:
        yield
    except CompileError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exit_code)
    except Exception as exc:
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: rerun with SFN_MCP_DEBUG=1 for the traceback and report it", err=True)
        if os.environ.get("SFN_MCP_DEBUG"):
            raise
        sys.exit(2)
