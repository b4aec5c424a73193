"""Run the server: ``python -m ai_workflows`` (stdio), or ``--transport http --port N``."""

import sys

try:
    from .server import main
except ModuleNotFoundError as missing:  # the server's dependencies are not installed
    sys.exit(
        f"ai_workflows cannot start: {missing}. "
        "Install what it needs with: pip install -r requirements.txt (beside this package's files)"
    )

if __name__ == "__main__":
    main()
