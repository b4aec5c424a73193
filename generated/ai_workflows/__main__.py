"""Run the server: ``python -m ai_workflows`` (stdio), or ``--transport http --port N``."""

import sys
from pathlib import Path

try:
    from .server import main
except ModuleNotFoundError as missing:  # the server's dependencies are not installed
    requirements = Path(__file__).with_name("requirements.txt")
    sys.exit(
        f"ai_workflows cannot start: {missing}. Install what it needs with: "
        f"{sys.executable} -m pip install -r {requirements}"
    )

if __name__ == "__main__":
    main()
