"""``python -m localaws start|stop|seed|env|status``: control the local AWS.

start   start ministack and the fake Schema Registry (or reuse the running ones), seed the
        example workflows and write <state-dir>/env
stop    stop exactly the processes start launched
seed    (re)seed the examples into the running local AWS
env     print the export lines of <state-dir>/env (eval "$(python -m localaws env)")
status  say what is running
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from localaws.seed import SeedError
from localaws.stack import (
    DEFAULT_SCHEMAS_PORT,
    DEFAULT_SFN_PORT,
    HOST,
    SERVICES,
    LocalAws,
    LocalAwsError,
    iter_env_lines,
    running_pid,
    stop,
)

DEFAULT_STATE_DIR = ".aws-local"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localaws",
        description="The project's local AWS: ministack plus a fake EventBridge Schema Registry, "
        "bound to 127.0.0.1, seeded with the example workflows.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "--state-dir",
            type=Path,
            default=Path(DEFAULT_STATE_DIR),
            help=f"PID, port, log and env files (default {DEFAULT_STATE_DIR})",
        )
        return sub

    start = command(
        "start", "start (or reuse) the local AWS, seed the examples, write the env file"
    )
    start.add_argument(
        "--sfn-port",
        type=int,
        default=None,
        help=f"ministack port (default: the running one, else {DEFAULT_SFN_PORT}; 0 = any free)",
    )
    start.add_argument(
        "--schemas-port",
        type=int,
        default=None,
        help=f"Schema Registry port (default: the running one, else {DEFAULT_SCHEMAS_PORT}; "
        "0 = any free)",
    )
    start.add_argument("--no-seed", action="store_true", help="do not seed the examples")
    command("stop", "stop exactly the processes start launched")
    command("seed", "create or update the example workflows in the running local AWS")
    command("env", "print the export lines for the running local AWS")
    command("status", "say what is running")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    state_dir: Path = args.state_dir
    try:
        if args.command == "start":
            stack = LocalAws.start(
                state_dir, args.sfn_port, args.schemas_port, seed=not args.no_seed
            )
            print(f"env file: {stack.env_file}  (. {stack.env_file})", file=sys.stderr)
        elif args.command == "stop":
            stop(state_dir)
        elif args.command == "seed":
            LocalAws.attach(state_dir).seed()
        elif args.command == "env":
            print("\n".join(iter_env_lines(LocalAws.attach(state_dir).env)))
        elif args.command == "status":
            return _status(state_dir)
    except (LocalAwsError, SeedError) as exc:
        print(f"localaws {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(state_dir: Path) -> int:
    try:
        stack = LocalAws.attach(state_dir)
    except LocalAwsError:
        for service in SERVICES:
            pid = running_pid(state_dir.resolve(), service)
            state = f"running (pid {pid})" if pid else "not running"
            print(f"{service.name}: {state}")
        return 1
    print(f"ministack: http://{HOST}:{stack.sfn_port} (pid {stack.pids['ministack']})")
    print(
        f"schema-registry: http://{HOST}:{stack.schemas_port} (pid {stack.pids['schema-registry']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
