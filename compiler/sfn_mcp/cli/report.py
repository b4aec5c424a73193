"""The one place the command line prints diagnostics, progress and failures."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator

import click

from sfn_mcp.diagnostics import CompileError, Diagnostic


def progress(message: str) -> None:
    click.echo(message, err=True)


def count(label: str, done: int, total: int) -> None:
    """A counter that rewrites one line on a terminal; nothing in a log."""
    if total > 1 and sys.stderr.isatty():
        click.echo(f"\r  {label} {done}/{total}", nl=done == total, err=True)


def diagnostics(items: Iterable[Diagnostic]) -> None:
    """Warnings and notes of a run, each once, in the order found."""
    for item in items:
        click.echo(item.render(), err=True)


@contextlib.contextmanager
def reported(exit_code: int) -> Iterator[None]:
    """A CompileError is printed and exits ``exit_code``; any other exception is a bug of ours:
    one line, how to get the traceback, and exit 2."""
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
