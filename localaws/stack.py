"""Process control for the local AWS: ministack plus the fake EventBridge Schema Registry.

``LocalAws.start(state_dir)`` launches both servers on 127.0.0.1 (or reuses the ones a previous
start left running), waits until they answer, seeds the example workflows and writes
``<state_dir>/env``. ``stop(state_dir)`` ends exactly the processes a start launched.

ministack is run as ``.venv-ministack/bin/python localaws/ministack_launcher.py``: the launcher
patches ministack's Step Functions callback tasks to record and answer what AWS does (see its
docstring), then calls ministack's ``main()``.

Files in the state directory:

- ``ministack.pid``, ``schema-registry.pid``: the PID of each server. Each was started in a
  session of its own, so the PID is also its process group, which holds ministack's Lambda
  workers too.
- ``ports.json``: the port of each server.
- ``ministack.log``, ``schema-registry.log``: their output.
- ``env``: ``export KEY=VALUE`` lines that point the AWS SDKs at this local AWS.
- ``tmp/``: ministack's ``TMPDIR``, which contains the Lambda temp folders it leaks.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config


from localaws.log import REPO_ROOT, Log, quiet, stderr_log
from localaws.seed import EXAMPLES_DIR, SeedReport, seed_examples

MINISTACK_PYTHON = REPO_ROOT / ".venv-ministack" / "bin" / "python"
# ministack runs through this launcher, which patches its Step Functions callback tasks to record
# what AWS records (see its docstring) and then calls ministack's main().
MINISTACK_LAUNCHER = REPO_ROOT / "localaws" / "ministack_launcher.py"
# What stack.py launched before the launcher existed; still recognised, so `stop` ends it.
LEGACY_MINISTACK_BIN = REPO_ROOT / ".venv-ministack" / "bin" / "ministack"
HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT = "000000000000"
DEFAULT_SFN_PORT = 14566
DEFAULT_SCHEMAS_PORT = 14567
# Step Functions runs Lambda, DynamoDB and S3 tasks in-process, and Lambda workers call S3 and
# DynamoDB over HTTP; nothing else is needed (no IAM, STS or CloudWatch Logs), checked by the
# example tests.
MINISTACK_SERVICES = ("stepfunctions", "lambda", "dynamodb", "s3")
READY_TIMEOUT = 30.0
STOP_GRACE = 5.0
KILL_WAIT = 3.0
POLL = 0.05


class LocalAwsError(RuntimeError):
    """The local AWS could not be started, found or stopped; the message says what to do."""


@dataclass(frozen=True)
class Service:
    """One server process of the local AWS."""

    name: str
    health_path: str
    default_port: int
    port_option: str

    def pid_file(self, state_dir: Path) -> Path:
        return state_dir / f"{self.name}.pid"

    def log_file(self, state_dir: Path) -> Path:
        return state_dir / f"{self.name}.log"

    def command(self, port: int) -> list[str]:
        if self is MINISTACK:
            return [str(MINISTACK_PYTHON), str(MINISTACK_LAUNCHER)]
        return [
            sys.executable,
            "-m",
            "localaws.schema_registry",
            "--host",
            HOST,
            "--port",
            str(port),
        ]

    def environment(self, state_dir: Path, port: int) -> dict[str, str]:
        # Nothing of the caller's AWS set-up may leak in: ministack hands its environment to the
        # Lambda workers, and an inherited AWS_ENDPOINT_URL would win over its own.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AWS_") and key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        }
        env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        if self is MINISTACK:
            env.update(
                BIND_HOST=HOST,
                GATEWAY_PORT=str(port),
                IOT_MTLS_ENABLED="0",
                SFTP_ENABLED="0",
                LOG_LEVEL="WARNING",
                TMPDIR=str(state_dir / "tmp"),
                SERVICES=",".join(MINISTACK_SERVICES),
            )
        else:
            env["PYTHONPATH"] = str(REPO_ROOT)
        return env

    def is_ours(self, cmdline: list[str]) -> bool:
        """Whether a process command line is one this module launches for the service."""
        if self is MINISTACK:
            return str(MINISTACK_LAUNCHER) in cmdline or str(LEGACY_MINISTACK_BIN) in cmdline
        return "localaws.schema_registry" in cmdline and "--port" in cmdline


MINISTACK = Service("ministack", "/_ministack/health", DEFAULT_SFN_PORT, "--sfn-port")
SCHEMA_REGISTRY = Service("schema-registry", "/health", DEFAULT_SCHEMAS_PORT, "--schemas-port")
SERVICES = (MINISTACK, SCHEMA_REGISTRY)


# --- processes ---------------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str] | None:
    """The command line of a live (not zombie) process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # kill(0) also succeeds on a zombie leader; the group is gone once only zombies are left.
    return _cmdline(pgid) is not None or _group_has_live_members(pgid)


def live_processes() -> Iterator[tuple[int, int, int]]:
    """``(pid, parent pid, process group)`` of every live (non-zombie) process, from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z":
            yield int(entry.name), int(fields[1]), int(fields[2])


def _group_has_live_members(pgid: int) -> bool:
    return any(group == pgid for _, _, group in live_processes())


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def running_pid(state_dir: Path, service: Service) -> int | None:
    """The PID recorded for the service, if that process is alive and is one we launched."""
    pid = _read_pid(service.pid_file(state_dir))
    if pid is None:
        return None
    cmdline = _cmdline(pid)
    return pid if cmdline is not None and service.is_ours(cmdline) else None


def _current(service: Service, pid: int) -> bool:
    """Whether a running server of ours is what this version launches (not a legacy ministack)."""
    return service is not MINISTACK or str(MINISTACK_LAUNCHER) in (_cmdline(pid) or [])


def _stop_service(state_dir: Path, service: Service) -> str | None:
    """Stop the service's process group; return what was done, or None if nothing was recorded."""
    pid_file = service.pid_file(state_dir)
    pid = _read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return None
    if running_pid(state_dir, service) != pid:
        pid_file.unlink(missing_ok=True)
        return f"{service.name}: pid {pid} was not running (stale pid file removed)"
    started = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = started + STOP_GRACE
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL)
    how = "SIGTERM"
    if _group_alive(pid):
        how = "SIGKILL"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + KILL_WAIT
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL)
    if _group_alive(pid):
        raise LocalAwsError(f"{service.name}: process group {pid} survived SIGKILL")
    pid_file.unlink(missing_ok=True)
    return f"stopped {service.name} (pid {pid}, {how}, {time.monotonic() - started:.1f} s)"


def _clean_tmp(tmp: Path) -> None:
    """Remove what ministack leaves in its TMPDIR (Lambda temp folders, its PID file)."""
    if not tmp.is_dir():
        return
    for entry in tmp.glob("ministack-*"):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        tmp.rmdir()  # only when empty: nothing else is ours to delete


def stop(state_dir: str | os.PathLike[str], log: Log = stderr_log) -> list[str]:
    """Stop the processes a start in this state directory launched; return what was stopped.

    Only a recorded PID whose /proc/<pid>/cmdline still looks like ours is signalled: its whole
    process group gets SIGTERM, then SIGKILL after a few seconds. Nothing running is no error.
    """
    state = Path(state_dir).resolve()
    done = [message for service in SERVICES if (message := _stop_service(state, service))]
    (state / "ports.json").unlink(missing_ok=True)
    (state / "env").unlink(missing_ok=True)  # it would point at nothing
    if running_pid(state, MINISTACK) is None:
        _clean_tmp(state / "tmp")
    for message in done:
        log(message)
    if not done:
        log(f"nothing to stop in {state}")
    return done


# --- ports and health --------------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def healthy(port: int, path: str, timeout: float = 1.0) -> bool:
    """Whether http://127.0.0.1:<port><path> answers 200 (proxies ignored)."""
    try:
        with _NO_PROXY.open(f"http://{HOST}:{port}{path}", timeout=timeout) as response:
            return int(response.status) == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def _launch(state_dir: Path, service: Service, port: int, log: Log) -> subprocess.Popen[bytes]:
    if service is MINISTACK and not MINISTACK_PYTHON.exists():
        raise LocalAwsError(
            f"{MINISTACK_PYTHON} is missing; create its virtualenv with "
            "`make .venv-ministack/.installed` (in the repository root)"
        )
    log_path = service.log_file(state_dir)
    log(f"starting {service.name} on {HOST}:{port} ...")
    started = time.monotonic()
    with log_path.open("ab") as log_file:
        log_file.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start on port {port}\n".encode())
        log_file.flush()
        proc = subprocess.Popen(
            service.command(port),
            cwd=REPO_ROOT,
            env=service.environment(state_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service.pid_file(state_dir).write_text(f"{proc.pid}\n")
    try:
        _wait_ready(service, port, proc, log_path, deadline=started + READY_TIMEOUT)
    except BaseException:
        # Never leave a half-started server behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        service.pid_file(state_dir).unlink(missing_ok=True)
        raise
    log(f"{service.name} ready on {HOST}:{port} in {time.monotonic() - started:.1f} s")
    return proc


def _wait_ready(
    service: Service, port: int, proc: subprocess.Popen[bytes], log_path: Path, deadline: float
) -> None:
    while not healthy(port, service.health_path, timeout=0.5):
        code = proc.poll()
        if code is not None:
            raise LocalAwsError(
                f"{service.name} exited with status {code} before it was ready; "
                f"see {log_path}:\n{_log_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            raise LocalAwsError(
                f"{service.name} did not answer GET {service.health_path} on {HOST}:{port} "
                f"within {READY_TIMEOUT:.0f} s; see {log_path}:\n{_log_tail(log_path)}"
            )
        time.sleep(POLL)


def _choose_port(service: Service, requested: int | None) -> int:
    if requested == 0:
        return free_port()
    port = service.default_port if requested is None else requested
    if not port_is_free(port):
        raise LocalAwsError(
            f"port {port} on {HOST} is in use by another program, so {service.name} cannot "
            f"start there; pick another with {service.port_option} N (0 for any free port; "
            f"with make: make aws-local AWS_LOCAL_ARGS='{service.port_option} 0')"
        )
    return port


def _read_ports(state_dir: Path) -> dict[str, int]:
    try:
        data = json.loads((state_dir / "ports.json").read_text())
    except (OSError, ValueError):
        return {}
    return {str(key): int(value) for key, value in data.items()} if isinstance(data, dict) else {}


# --- the stack ---------------------------------------------------------------------------------


@dataclass
class LocalAws:
    """A running local AWS: ministack (Step Functions, Lambda, DynamoDB, S3) and the fake
    Schema Registry, both on 127.0.0.1."""

    state_dir: Path
    sfn_port: int
    schemas_port: int
    pids: dict[str, int]
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    _session: boto3.session.Session | None = field(default=None, repr=False)
    seed_report: SeedReport | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        state_dir: str | os.PathLike[str],
        sfn_port: int | None = 0,
        schemas_port: int | None = 0,
        *,
        seed: bool = True,
        examples_dir: Path | None = None,
        log: Log = stderr_log,
    ) -> LocalAws:
        """Start (or reuse) both servers, seed the examples and write the env file.

        A port of 0 means any free port, None the default (14566 / 14567). A server recorded in
        the state directory that is alive, ours and healthy is reused when its port fits.
        """
        state = Path(state_dir).resolve()
        (state / "tmp").mkdir(parents=True, exist_ok=True)
        ports = _read_ports(state)
        pids: dict[str, int] = {}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        chosen: dict[str, int] = {}
        try:
            for service, requested in ((MINISTACK, sfn_port), (SCHEMA_REGISTRY, schemas_port)):
                pid = running_pid(state, service)
                port = ports.get(service.name)
                if pid is not None and not _current(service, pid):
                    log(f"{service.name} (pid {pid}) runs without the launcher; restarting it")
                    _stop_service(state, service)
                    pid = None
                if pid is not None and port is not None:
                    if requested not in (None, 0, port):
                        raise LocalAwsError(
                            f"{service.name} is already running on {HOST}:{port} (pid {pid}), "
                            f"not on {requested}; stop it first: python -m localaws stop "
                            f"--state-dir {state_dir}"
                        )
                    if healthy(port, service.health_path):
                        log(f"{service.name} already running on {HOST}:{port} (pid {pid})")
                        pids[service.name] = pid
                        chosen[service.name] = port
                        continue
                    log(f"{service.name} (pid {pid}) does not answer; restarting it")
                if pid is not None:
                    _stop_service(state, service)
                port = _choose_port(service, requested)
                proc = _launch(state, service, port, log)
                procs[service.name] = proc
                pids[service.name] = proc.pid
                chosen[service.name] = port
                (state / "ports.json").write_text(json.dumps({**ports, **chosen}, indent=2) + "\n")
            (state / "ports.json").write_text(json.dumps(chosen, indent=2) + "\n")
            stack = cls(state, chosen[MINISTACK.name], chosen[SCHEMA_REGISTRY.name], pids, procs)
            stack.write_env_file()
            if seed:
                stack.seed(examples_dir, log=log)
        except BaseException:
            # what this call launched stops with it (a failed seed left both running before);
            # servers it found running were started by someone else and stay
            for service in SERVICES:
                if service.name in procs:
                    _stop_service(state, service)
                    procs[service.name].wait()
            raise
        return stack

    @classmethod
    def attach(cls, state_dir: str | os.PathLike[str]) -> LocalAws:
        """The local AWS a previous start left running in this state directory."""
        state = Path(state_dir).resolve()
        ports = _read_ports(state)
        pids: dict[str, int] = {}
        for service in SERVICES:
            pid = running_pid(state, service)
            if pid is None or service.name not in ports:
                raise LocalAwsError(
                    f"{service.name} is not running for {state}; start it with "
                    f"python -m localaws start --state-dir {state_dir}"
                )
            pids[service.name] = pid
        return cls(state, ports[MINISTACK.name], ports[SCHEMA_REGISTRY.name], pids)

    # -- endpoints and clients --

    @property
    def endpoint_url(self) -> str:
        """ministack: Step Functions, Lambda, DynamoDB and S3."""
        return f"http://{HOST}:{self.sfn_port}"

    @property
    def schemas_endpoint_url(self) -> str:
        """The fake EventBridge Schema Registry."""
        return f"http://{HOST}:{self.schemas_port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point the AWS SDKs and CLI here, isolated from ~/.aws."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL_SCHEMAS": self.schemas_endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    def write_env_file(self) -> Path:
        """Write ``export KEY=VALUE`` lines (values need no quoting, so KEY=VALUE parsers work)."""
        self.env_file.write_text("\n".join(iter_env_lines(self.env)) + "\n")
        return self.env_file

    def client(self, service: str, config: Config | None = None, **kwargs: Any) -> Any:
        """A boto3 client for this local AWS (``schemas`` goes to the fake registry).

        For ``start_sync_execution`` pass ``config=Config(inject_host_prefix=False)``: botocore
        would otherwise send it to the host ``sync-127.0.0.1``.
        """
        endpoint = self.schemas_endpoint_url if service == "schemas" else self.endpoint_url
        if self._session is None:
            import boto3  # here, not at the top: `python -m localaws stop` stays quick

            # One session: it caches the service models, which makes later clients cheap.
            self._session = boto3.session.Session(
                aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
            )
        make: Any = self._session.client  # boto3-stubs types only literal service names
        return make(service, endpoint_url=endpoint, config=config, **kwargs)

    # -- examples --

    def seed(self, examples_dir: Path | None = None, log: Log = stderr_log) -> SeedReport:
        """Create or update the example workflows and their resources (idempotent)."""
        self.seed_report = seed_examples(self.client, examples_dir or EXAMPLES_DIR, log=log)
        return self.seed_report

    def machine_arn(self, name: str) -> str:
        """The ARN of a state machine by name (ministack's account is 000000000000)."""
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"

    def count_executions(self, machine: str) -> int:
        """How many executions a state machine has (name or ARN), over every page."""
        return count_executions(self.client("stepfunctions"), self._arn(machine))

    def run_execution(
        self, machine: str, payload: Any, *, name: str | None = None, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Start an execution (StartExecution), wait until it ends, return DescribeExecution."""
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {
            "stateMachineArn": self._arn(machine),
            "input": json.dumps(payload),
        }
        if name is not None:
            kwargs["name"] = name
        arn = sfn.start_execution(**kwargs)["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise LocalAwsError(f"execution {arn} still RUNNING after {timeout:.0f} s")
            time.sleep(POLL)

    def _arn(self, machine: str) -> str:
        return machine if machine.startswith("arn:") else self.machine_arn(machine)

    # -- shutdown --

    def stop(self, log: Log = quiet) -> list[str]:
        """Stop both servers (and ministack's Lambda workers)."""
        done = stop(self.state_dir, log=log)
        for proc in self._procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=KILL_WAIT)
        self._procs.clear()
        return done

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def count_executions(sfn: Any, state_machine_arn: str, page_size: int = 100) -> int:
    """Count the executions of a state machine with a paginated ListExecutions.

    ``maxResults`` is always passed: without it ministack returns everything in one page.
    """
    total = 0
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "maxResults": page_size}
    while True:
        page = sfn.list_executions(**kwargs)
        total += len(page.get("executions", []))
        token = page.get("nextToken")
        if not token:
            return total
        kwargs["nextToken"] = token


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse an env file written by ``write_env_file`` (``export`` prefix optional)."""
    env: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, _, value = line.partition("=")
        parts = shlex.split(value)
        env[key] = parts[0] if parts else ""
    return env


def iter_env_lines(env: Mapping[str, str]) -> Iterator[str]:
    """``export KEY=VALUE`` lines for an environment mapping."""
    for key, value in env.items():
        yield f"export {key}={shlex.quote(value)}"
