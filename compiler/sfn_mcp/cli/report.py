"""The one place the command line prints diagnostics, progress and failures."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator

import click

from sfn_mcp.diagnostics import CompileError, Diagnostic
from sfn_mcp.ir import Tool
from sfn_mcp.read.records import INFERRED


def progress(message: str) -> None:
    click.echo(message, err=True)


def count(label: str, done: int, total: int) -> None:
    """A counter that rewrites one line on a terminal; nothing in a log."""
    if total > 1 and sys.stderr.isatty():
        click.echo(f"\r  {label} {done}/{total}", nl=done == total, err=True)


def diagnostics(items: Iterable[Diagnostic], package: str | None = None) -> None:
    """Warnings and notes of a run, each once, in the order found; with ``package``, each line
    starts with the package's id."""
    for item in items:
        click.echo(prefixed(item.render(), package), err=True)


def prefixed(text: str, package: str | None) -> str:
    """Every line of ``text`` starting ``[package] `` (unchanged without a package)."""
    if package is None:
        return text
    return "\n".join(f"[{package}] {line}" if line else line for line in text.split("\n"))


def failure(exc: CompileError, package: str | None) -> None:
    """A CompileError of one package of several, printed as ``reported`` would, named."""
    diagnostics(exc.context, package)
    click.echo(prefixed(exc.render(), package), err=True)


@contextlib.contextmanager
def reported(exit_code: int) -> Iterator[None]:
    """A CompileError is printed and exits ``exit_code``; any other exception is a bug of ours:
    one line, how to get the traceback, and exit 2."""
    try:
        yield
    except CompileError as exc:
        diagnostics(exc.context)
        click.echo(exc.render(), err=True)
        sys.exit(exit_code)
    except Exception as exc:
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: rerun with SFN_MCP_DEBUG=1 for the traceback and report it", err=True)
        if os.environ.get("SFN_MCP_DEBUG"):
            raise
        sys.exit(2)


def summary(tools: Iterable[Tool], items: Iterable[Diagnostic]) -> str:
    """The closing line of a compile: how many tools, typed or not and why, and warnings."""
    listed = list(tools)
    reasons = Counter(t.input.untyped_reason for t in listed if t.input.mode == "free-form")
    untyped = sum(reasons.values())
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    warnings = sum(1 for d in items if d.level == "warning")
    inferred = sum(1 for t in listed if t.schema is not None and t.schema.ref.registry == INFERRED)
    return (
        f"{len(listed)} tool(s): {len(listed) - untyped} typed"
        + (f" ({inferred} inferred from their definitions)" if inferred else "")
        + f", {untyped} untyped"
        + (f" ({why})" if why else "")
        + f"; {warnings} warning(s)"
    )
