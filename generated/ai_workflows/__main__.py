"""Run the server: ``python -m ai_workflows`` (stdio), or ``--transport http --port N``."""

from .server import main

if __name__ == "__main__":
    main()
