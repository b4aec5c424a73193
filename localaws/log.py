"""What the local AWS modules share: where the repository is, and how progress is printed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

Log = Callable[[str], None]


def stderr_log(message: str) -> None:
    """The default progress printer: one line on stderr."""
    print(message, file=sys.stderr, flush=True)


def quiet(message: str) -> None:
    """A progress printer that prints nothing."""
