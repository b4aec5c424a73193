"""Benchmark: a generated sfn-mcp server side by side with awslabs-stepfunctions-tool-mcp-server.

Run from the repository root (``make bench`` does this)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench.py            # about 13 minutes on 2 cores
    PYTHONPATH=. .venv/bin/python benchmarks/bench.py --sizes 10,100 --runs 3 --compile-sizes 0
    PYTHONPATH=. .venv/bin/python benchmarks/bench.py --scale-only   # sfn-mcp alone, no AWS
    PYTHONPATH=. .venv/bin/python benchmarks/bench.py compile        # the compile figures only

It starts its own local AWS (ministack + the fake Schema Registry) in a temporary folder, adds
the machines it needs (``bench-slow-express`` and ``bench-burst-express``: EXPRESS, Wait 3 s or
1 s then Pass; ``bench-bulk-000`` ...: Pass; for each N of ``--sizes``, ``bench-n<N>-wf0000`` ...,
half with an input schema in the Schema Registry), generates sfn-mcp packages from that account,
then measures both servers over stdio with the MCP SDK client; after the local AWS has stopped,
it times ``sfn-mcp generate``/``check`` on a template of N machines (``--compile-sizes``). It
prints markdown tables of medians and minimums. Progress goes to stderr, the results to stdout.

The anchor runs from its own virtualenv (``.venv-anchor``); it is created if missing.
Exit status: 0 after a complete run, 1 when something really failed (a server did not start,
a call or a tools/list did not succeed, generation failed), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, PaginatedRequestParams, TextContent, Tool

from localaws.stack import LocalAws, live_processes
from sfn_mcp_runtime.contract import STATUS_TOOL

REPO_ROOT = Path(__file__).resolve().parent.parent
SFN_MCP_BIN = Path(sys.executable).parent / "sfn-mcp"
ANCHOR_PACKAGE = "awslabs-stepfunctions-tool-mcp-server"
ANCHOR_VERSION = "0.2.1"
ANCHOR_VENV = REPO_ROOT / ".venv-anchor"
ANCHOR_SCRIPT = "awslabs.stepfunctions-tool-mcp-server"
ANCHOR_INSTALL_TIMEOUT = 900.0

EXAMPLES_PREFIX = "ai-workflows-"
SCHEMA_TAG_KEY = "input-schema-arn"
BULK_PREFIX = "bench-bulk-"
STATE_MACHINE_ROLE = "arn:aws:iam::000000000000:role/ai-workflows-states"

TRIAGE_TOOL = "support_triage"
TRIAGE_INPUT: dict[str, Any] = {
    "subject": "Checkout is down",
    "body": "Customers see an outage since 9:00",
    "customerTier": "platinum",
}

# Bounds: every wait below is cut off by one of these.
INIT_TIMEOUT = 60.0
LIST_TIMEOUT = 30.0
CALL_TIMEOUT = 60.0
BURST_TIMEOUT = 180.0  # each call of the burst: the anchor answers them one after another
GENERATE_TIMEOUT = 180.0
OVERALL_TIMEOUT = 1800.0

SFN_MCP = "sfn-mcp"
ANCHOR = "anchor"
SERVERS = (SFN_MCP, ANCHOR)


@dataclass(frozen=True)
class Burst:
    """Concurrent calls of one EXPRESS machine (Wait, then Pass) over one session, and a
    tools/list sent ``probe_delay`` s after them."""

    key: str  # metric keys: f"{key}-probe" and f"{key}-wall"
    machine: str
    seconds: int  # its Wait
    calls: int
    probe_delay: float
    timeout: float  # for each call and for the tools/list

    @property
    def tool(self) -> str:
        return self.machine.replace("-", "_")

    @property
    def labels(self) -> tuple[str, str]:
        """(tools/list row, wall-time row)."""
        if self.calls == 1:
            return (
                f"tools/list {self.probe_delay} s into a {self.seconds} s EXPRESS call",
                f"that EXPRESS call ({self.machine}), end to end",
            )
        return (
            f"tools/list {self.probe_delay} s into {self.calls} concurrent "
            f"{self.seconds} s EXPRESS calls",
            f"those {self.calls} calls ({self.machine}), first sent → last answered",
        )


BURSTS = (
    Burst("express", "bench-slow-express", 3, 1, 0.5, CALL_TIMEOUT),
    Burst("burst", "bench-burst-express", 1, 20, 0.3, BURST_TIMEOUT),
)


class BenchError(RuntimeError):
    """A real failure: the benchmark cannot produce a valid figure."""


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _has_marker(pid: int, marker: str) -> bool:
    return any(marker in part for part in _cmdline(pid))


def child_pids() -> set[int]:
    """The live children of this process."""
    return {pid for pid, parent, _ in live_processes() if parent == os.getpid()}


def rss_mib(pid: int) -> float:
    """VmRSS of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS in /proc/{pid}/status")


# --------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server over stdio, and how to recognise its process."""

    server: str  # SFN_MCP or ANCHOR
    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    marker: str  # an argument of its command line
    cwd: Path | None = None

    def params(self) -> StdioServerParameters:
        return StdioServerParameters(
            command=self.command, args=list(self.args), env=self.env, cwd=self.cwd
        )


def sfn_mcp_spec(package_dir: Path, package: str, aws_env: dict[str, str]) -> ServerSpec:
    return ServerSpec(
        server=SFN_MCP,
        command=sys.executable,
        args=("-m", package),
        env=dict(aws_env),
        marker=package,
        cwd=package_dir,
    )


def anchor_spec(aws_env: dict[str, str], selection: dict[str, str]) -> ServerSpec:
    env = dict(aws_env)
    env.update(
        AWS_REGION="us-east-1",
        # StartSyncExecution's "sync-" host prefix breaks the endpoint override.
        AWS_DISABLE_HOST_PREFIX_INJECTION="true",
        STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY=SCHEMA_TAG_KEY,
        **selection,
    )
    return ServerSpec(
        server=ANCHOR,
        command=str(ANCHOR_VENV / "bin" / ANCHOR_SCRIPT),
        args=(),
        env=env,
        marker=ANCHOR_SCRIPT,
    )


@dataclass
class Connection:
    session: ClientSession
    pid: int
    initialize_seconds: float


@dataclass
class Launcher:
    """Starts servers over stdio; remembers every server process it saw, for the final sweep."""

    log_dir: Path
    seen: dict[int, str] = field(default_factory=dict)  # pid -> marker

    @contextlib.asynccontextmanager
    async def connect(self, spec: ServerSpec) -> AsyncIterator[Connection]:
        """Spawn the server, time spawn → initialize result, find its PID."""
        before = child_pids()
        with (self.log_dir / f"{spec.server}.stderr.log").open("a") as errlog:
            started = time.perf_counter()
            async with (
                stdio_client(spec.params(), errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                try:
                    with anyio.fail_after(INIT_TIMEOUT):
                        await session.initialize()
                except TimeoutError as exc:
                    raise BenchError(
                        f"{spec.server} did not answer initialize within {INIT_TIMEOUT:.0f} s; "
                        f"see {errlog.name}"
                    ) from exc
                elapsed = time.perf_counter() - started
                pid = self._server_pid(before, spec)
                yield Connection(session, pid, elapsed)

    def _server_pid(self, before: set[int], spec: ServerSpec) -> int:
        new = [pid for pid in child_pids() - before if _has_marker(pid, spec.marker)]
        if len(new) != 1:
            raise BenchError(f"expected one new {spec.server} process, found {new}")
        self.seen[new[0]] = spec.marker
        return new[0]

    def sweep(self) -> None:
        """Kill (by PID) any server process this run started that is somehow still alive."""
        alive = child_pids()
        for pid, marker in self.seen.items():
            if pid in alive and _has_marker(pid, marker):
                progress(f"server process {pid} still alive; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, 0)


async def list_tools(
    session: ClientSession, timeout: float = LIST_TIMEOUT
) -> tuple[list[Tool], float]:
    started = time.perf_counter()
    with anyio.fail_after(timeout):
        tools = (await session.list_tools()).tools
    return tools, time.perf_counter() - started


async def call_tool(
    session: ClientSession, name: str, arguments: dict[str, Any]
) -> tuple[CallToolResult, float]:
    started = time.perf_counter()
    with anyio.fail_after(CALL_TIMEOUT):
        result = await session.call_tool(name, arguments)
    elapsed = time.perf_counter() - started
    if not isinstance(result, CallToolResult):
        raise BenchError(f"{name}: unexpected result type {type(result).__name__}")
    return result, elapsed


def wrap_arguments(server: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The anchor's tools all take one argument, ``parameters``; ours take the input itself."""
    return {"parameters": arguments} if server == ANCHOR else arguments


def call_failure(server: str, result: CallToolResult | Exception) -> str | None:
    """None when the call reports a SUCCEEDED execution (each server in its own format),
    else what happened instead."""
    if isinstance(result, Exception):
        return f"{type(result).__name__}: {result}"
    text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
    if server == SFN_MCP:
        status = (result.structured_content or {}).get("status")
        ok = not result.is_error and status == "SUCCEEDED"
    else:
        ok = not result.is_error and " returned:" in text
    return None if ok else f"isError={result.is_error}: {text[:400]}"


def check_succeeded(server: str, tool: str, result: CallToolResult) -> None:
    """Raise unless the call reports a SUCCEEDED execution."""
    problem = call_failure(server, result)
    if problem is not None:
        raise BenchError(f"{server} {tool} did not succeed ({problem})")


# --------------------------------------------------------------------------- results


@dataclass
class Metric:
    label: str
    unit: str
    scale: float  # seconds → unit
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: dict[str, str] = field(default_factory=dict)  # server -> text shown instead of figures


@dataclass
class ToolFacts:
    count: int
    required: dict[str, list[str]]  # tool name -> required fields of its inputSchema
    properties: dict[str, list[str]]  # tool name -> top-level property names


@dataclass
class Results:
    metrics: dict[str, Metric] = field(default_factory=dict)
    facts: dict[tuple[str, str], ToolFacts] = field(default_factory=dict)  # (server, config)

    def add(self, key: str, server: str, value: float) -> None:
        self.metrics[key].samples.setdefault(server, []).append(value)

    def define(self, key: str, label: str, unit: str, scale: float = 1.0) -> None:
        self.metrics.setdefault(key, Metric(label, unit, scale))


def tool_facts(listed: list[Tool]) -> ToolFacts:
    """Facts about the workflow tools (sfn-mcp's get_execution is not one)."""
    tools = [t for t in listed if t.name != STATUS_TOOL]
    return ToolFacts(
        count=len(tools),
        required={t.name: list(t.input_schema.get("required", [])) for t in tools},
        properties={t.name: sorted(t.input_schema.get("properties", {})) for t in tools},
    )


# --------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Config:
    """One selection of machines, as each server is configured for it."""

    key: str  # "examples" / "bulk" / "express"
    title: str
    specs: dict[str, ServerSpec]
    machines: int  # how many tools sfn-mcp must list (the anchor's count is reported, not checked)


async def measure_startup(
    launcher: Launcher, config: Config, results: Results, runs: int, call_triage: bool
) -> None:
    """Spawn → initialize, first tools/list and RSS; for the examples also a first tool call."""
    k = config.key
    results.define(f"init-{k}", f"spawn → initialize, {config.title}", "s")
    results.define(f"list-{k}", f"first tools/list, {config.title}", "ms", 1000.0)
    results.define(f"rss-{k}", f"RSS after initialize, {config.title}", "MiB")
    if call_triage:
        results.define("triage", f"first {TRIAGE_TOOL} call (STANDARD), end to end", "s")
        results.define("rss-triage", f"RSS after that call, {config.title}", "MiB")
    # One discarded warm-up per server (page cache, .pyc files), then the runs, interleaved.
    for run in range(runs + 1):
        for server, spec in config.specs.items():
            async with launcher.connect(spec) as conn:
                rss = rss_mib(conn.pid)
                tools, list_seconds = await list_tools(conn.session)
                if run == 0:
                    facts = results.facts[(server, k)] = tool_facts(tools)
                    if server == SFN_MCP and facts.count != config.machines:
                        raise BenchError(
                            f"sfn-mcp lists {facts.count} workflow tools, not {config.machines}"
                        )
                    continue
                results.add(f"init-{k}", server, conn.initialize_seconds)
                results.add(f"rss-{k}", server, rss)
                results.add(f"list-{k}", server, list_seconds)
                if call_triage:
                    arguments = wrap_arguments(server, TRIAGE_INPUT)
                    result, seconds = await call_tool(conn.session, TRIAGE_TOOL, arguments)
                    check_succeeded(server, TRIAGE_TOOL, result)
                    results.add("triage", server, seconds)
                    results.add("rss-triage", server, rss_mib(conn.pid))
        if run:
            progress(f"{config.title}: run {run}/{runs} done")


@dataclass
class BurstRun:
    calls: list[CallToolResult | Exception]  # what each call returned or raised
    wall_seconds: float  # first call sent → last call answered
    probe_seconds: float | None  # None: tools/list got no answer within the timeout


async def run_burst(session: ClientSession, burst: Burst, arguments: dict[str, Any]) -> BurstRun:
    """Send ``burst.calls`` calls at once, and a tools/list ``burst.probe_delay`` s later."""
    calls: list[CallToolResult | Exception] = []
    answered: list[float] = []
    probe: list[float | None] = []

    async def call() -> None:
        try:
            with anyio.fail_after(burst.timeout):
                calls.append(await session.call_tool(burst.tool, arguments))
        except TimeoutError:
            calls.append(TimeoutError(f"no answer within {burst.timeout:.0f} s"))
        except Exception as exc:  # an MCP error, a closed session: reported, not raised
            calls.append(exc)
        answered.append(time.perf_counter())

    async def list_later() -> None:
        await anyio.sleep(burst.probe_delay)
        try:
            probe.append((await list_tools(session, burst.timeout))[1])
        except TimeoutError:
            probe.append(None)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(burst.calls):
            group.start_soon(call)
        group.start_soon(list_later)
    return BurstRun(calls, max(answered) - started, probe[0])


def burst_problem(server: str, burst: Burst, outcome: BurstRun) -> str | None:
    """What went wrong in one burst, or None when every call succeeded and tools/list answered."""
    problems = [p for p in (call_failure(server, c) for c in outcome.calls) if p is not None]
    if problems:
        return f"{len(problems)} of {burst.calls} calls failed, first: {problems[0]}"
    if outcome.probe_seconds is None:
        return f"tools/list got no answer within {burst.timeout:.0f} s"
    return None


async def measure_express(launcher: Launcher, config: Config, results: Results, runs: int) -> None:
    """On one session per server, each burst of BURSTS ``runs`` times: its wall time and the
    latency of the tools/list sent into it. A failing anchor is reported in its column."""
    for burst in BURSTS:
        probe_label, wall_label = burst.labels
        results.define(f"{burst.key}-probe", probe_label, "ms", 1000.0)
        results.define(f"{burst.key}-wall", wall_label, "s")
    for server, spec in config.specs.items():
        async with launcher.connect(spec) as conn:
            tools, _ = await list_tools(conn.session)
            listed = {t.name for t in tools}
            for burst in BURSTS:
                if burst.tool not in listed:
                    raise BenchError(f"{server} does not list {burst.tool}: {sorted(listed)}")
                arguments = wrap_arguments(server, {})
                for _ in range(runs):
                    outcome = await run_burst(conn.session, burst, arguments)
                    problem = burst_problem(server, burst, outcome)
                    if problem is not None and server == SFN_MCP:
                        raise BenchError(f"{server} {burst.tool}: {problem}")
                    if problem is not None:
                        progress(f"{server} {burst.tool}: {problem}")
                        note = f"failed after {outcome.wall_seconds:.1f} s: {problem[:120]}"
                        results.metrics[f"{burst.key}-wall"].note[server] = note
                        results.metrics[f"{burst.key}-probe"].note[server] = "see the row below"
                        break
                    results.add(f"{burst.key}-probe", server, outcome.probe_seconds or 0.0)
                    results.add(f"{burst.key}-wall", server, outcome.wall_seconds)
                progress(f"{config.title}: {server} {burst.tool} done")


# --------------------------------------------------------------------------- set-up


def ensure_anchor() -> None:
    """Create .venv-anchor with the pinned anchor if it is missing (one-time, a minute or so)."""
    script = ANCHOR_VENV / "bin" / ANCHOR_SCRIPT
    python = ANCHOR_VENV / "bin" / "python"
    if script.exists():
        found = subprocess.run(
            [
                str(python),
                "-c",
                f"import importlib.metadata as m; print(m.version({ANCHOR_PACKAGE!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        if found == ANCHOR_VERSION:
            return
        progress(
            f"{ANCHOR_VENV.name} has {ANCHOR_PACKAGE} {found or '?'}; installing {ANCHOR_VERSION}"
        )
    else:
        progress(f"creating {ANCHOR_VENV} with {ANCHOR_PACKAGE}=={ANCHOR_VERSION} ...")
    steps: list[list[str]] = []
    if not python.exists():
        steps.append([shutil.which("python3") or sys.executable, "-m", "venv", str(ANCHOR_VENV)])
    steps.append(
        [str(python), "-m", "pip", "install", "--quiet", f"{ANCHOR_PACKAGE}=={ANCHOR_VERSION}"]
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=ANCHOR_INSTALL_TIMEOUT)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(step)} failed:\n{done.stderr[-2000:]}")


def create_machines(stack: LocalAws, bulk: int) -> tuple[int, bool]:
    """Create the benchmark's machines; return what one unpaginated ListStateMachines sees
    (the number of machines, whether a nextToken came back), as the anchor calls it."""
    sfn = stack.client("stepfunctions")
    passing = {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}
    machines: list[tuple[str, str, dict[str, Any]]] = [
        (
            burst.machine,
            "EXPRESS",
            {
                "StartAt": "Wait",
                "States": {
                    "Wait": {"Type": "Wait", "Seconds": burst.seconds, "Next": "Pass"},
                    "Pass": {"Type": "Pass", "End": True},
                },
            },
        )
        for burst in BURSTS
    ]
    machines += [(f"{BULK_PREFIX}{i:03d}", "STANDARD", passing) for i in range(bulk)]
    started = time.perf_counter()
    for name, kind, definition in machines:
        sfn.create_state_machine(
            name=name, type=kind, roleArn=STATE_MACHINE_ROLE, definition=json.dumps(definition)
        )
    progress(f"created {len(machines)} state machines in {time.perf_counter() - started:.1f} s")
    page = sfn.list_state_machines()
    return len(page.get("stateMachines", [])), bool(page.get("nextToken"))


def generate(args: list[str], output: Path, aws_env: dict[str, str], cwd: Path) -> float:
    """Run ``sfn-mcp generate`` once (cwd outside the repository, so no pyproject settings)."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(aws_env)
    command = [str(SFN_MCP_BIN), "generate", *args, "--output", str(output)]
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=GENERATE_TIMEOUT
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{done.stdout[-1000:]}{done.stderr[-2000:]}")
    return elapsed


def compile_packages(
    work: Path, aws_env: dict[str, str], results: Results, runs: int, bulk: int
) -> Path:
    """Time ``sfn-mcp generate`` (fresh output folder each run); return the package folder."""
    packages = work / "packages"
    jobs = {
        "examples": ["--prefix", EXAMPLES_PREFIX, "--name", "ai_workflows"],
        "bulk": ["--prefix", BULK_PREFIX, "--name", "bench_bulk"],
    }
    titles = {"examples": "4 examples", "bulk": f"{bulk} bulk machines"}
    for key, selection in jobs.items():
        flags = [*selection, "--schema-tag-key", SCHEMA_TAG_KEY]
        results.define(f"generate-{key}", f"sfn-mcp generate, {titles[key]}", "s")
        results.metrics[f"generate-{key}"].note[ANCHOR] = "n/a: discovers at every start"
        for run in range(runs):
            target = packages if run == runs - 1 else work / f"generate-{key}-{run}"
            results.add(f"generate-{key}", SFN_MCP, generate(flags, target, aws_env, work))
        progress(f"generate {titles[key]}: {runs} runs done")
    selection = [flag for burst in BURSTS for flag in ("--state-machine", burst.machine)]
    generate([*selection, "--name", "bench_express"], packages, aws_env, work)
    return packages


# --------------------------------------------------------------------------- report


def _figures(metric: Metric, server: str) -> tuple[str, str]:
    if server in metric.note:
        return metric.note[server], ""
    values = [v * metric.scale for v in metric.samples.get(server, [])]
    if not values:
        return "-", "-"
    digits = 3 if metric.unit == "s" else 1
    return f"{statistics.median(values):.{digits}f}", f"{min(values):.{digits}f}"


def _typed(facts: ToolFacts) -> int:
    return sum(1 for names in facts.required.values() if set(names) - {"parameters"})


def print_report(
    results: Results, out: TextIO, runs: int, bulk: int, first_page: tuple[int, bool] | None
) -> None:
    if not results.metrics:
        return
    anchor = f"anchor {ANCHOR_VERSION}"
    print(
        f"\n### sfn-mcp vs {ANCHOR_PACKAGE} {ANCHOR_VERSION}: median and min of {runs} runs\n",
        file=out,
    )
    print(f"| | sfn-mcp median | min | {anchor} median | min |", file=out)
    print("|---|---|---|---|---|", file=out)
    for metric in results.metrics.values():
        ours = _figures(metric, SFN_MCP)
        theirs = _figures(metric, ANCHOR)
        label = f"{metric.label} ({metric.unit})"
        if ANCHOR in metric.note:
            print(f"| {label} | {ours[0]} | {ours[1]} | {theirs[0]} | |", file=out)
        else:
            print(f"| {label} | {ours[0]} | {ours[1]} | {theirs[0]} | {theirs[1]} |", file=out)

    print(f"\n| Tools (facts from tools/list) | sfn-mcp | {anchor} |", file=out)
    print("|---|---|---|", file=out)
    for key, title in (("examples", "4 examples"), ("bulk", f"{bulk} bulk")):
        rows: dict[str, list[str]] = {"count": [], "typed": []}
        for server in SERVERS:
            facts = results.facts.get((server, key))
            rows["count"].append("-" if facts is None else str(facts.count))
            rows["typed"].append("-" if facts is None else str(_typed(facts)))
        for row, label in (
            ("count", f"workflow tools listed, {title}"),
            ("typed", "of which require a field other than `parameters`"),
        ):
            print(f"| {label} | {rows[row][0]} | {rows[row][1]} |", file=out)
    print(f"\nsfn-mcp also lists {STATUS_TOOL}, which is not counted here.", file=out)
    if first_page is not None:
        token = "a nextToken" if first_page[1] else "no nextToken"
        print(
            "The anchor calls ListStateMachines once, without pagination (AWS pages at 100). "
            f"This local AWS answered that call with {first_page[0]} machines and {token} "
            "(the scale scenario's machines live on local AWSes of their own).",
            file=out,
        )

    print("\ninputSchema of the example tools (required fields | top-level properties):", file=out)
    for server in SERVERS:
        facts = results.facts.get((server, "examples"))
        if facts is None:
            continue
        print(f"\n- {server}:", file=out)
        for name in sorted(facts.required):
            required = ", ".join(facts.required[name]) or "(none)"
            props = ", ".join(facts.properties[name]) or "(none)"
            print(f"  - `{name}` required: {required} | properties: {props}", file=out)


# --------------------------------------------------------------------------- scale: N workflows
#
# For each N of --sizes: N machines (half with an input schema in the Schema Registry, tagged
# with SCHEMA_TAG_KEY) under a prefix of their own, on the local AWS; an sfn-mcp package compiled
# from that account (generate --source account) and the anchor discovering the same N machines
# at its start (STATE_MACHINE_PREFIX). Each run spawns, in turn, sfn-mcp, the anchor, the floor
# and the two other sfn-mcp start-ups (--surface search, --page-size); one warm-up each.
# --scale-only measures sfn-mcp alone, from packages compiled from records (no AWS at all).

SCALE_SIZES = (10, 100, 300, 1000)
SCALE_TIMEOUT = 120.0
SCALE_REGISTRY = "bench-scale"
SEED_THREADS = 8
PAGE_SIZE = 100
# The floor: a Python that imports the SDK's low-level server and answers initialize and an
# empty tools/list over stdio; no server can start faster.
FLOOR_SCRIPT = """
import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.types import ListToolsResult

async def list_tools(ctx, params):
    return ListToolsResult(tools=[])

server = Server("floor", on_list_tools=list_tools)

async def main():
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""
FLOOR = "floor"
SEARCH = "search"  # sfn-mcp --surface search
PAGED = "paged"  # sfn-mcp --page-size PAGE_SIZE
VARIANTS = (SFN_MCP, ANCHOR, FLOOR, SEARCH, PAGED)
# The server option each sfn-mcp variant needs, as --help names it.
VARIANT_FLAGS = {SEARCH: ("--surface", SEARCH), PAGED: ("--page-size", str(PAGE_SIZE))}
PASSING = {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}


def _typed_example() -> dict[str, Any]:
    """The daily_etl example's record (definition, comment, schema): the typed half."""
    examples = json.loads((REPO_ROOT / "tests/golden/ai_workflows.records.json").read_text())
    typed: dict[str, Any] = next(m for m in examples["machines"] if m["name"].endswith("daily-etl"))
    return typed


def _schema_content(content: str, title: str) -> str:
    document = json.loads(content)
    document["title"] = title
    return json.dumps(document, indent=2)


def scale_records(count: int) -> str:
    """Records (the read stage's output) of ``count`` machines, half typed: even ones are the
    daily_etl example with a schema of their own (so one model module each), odd ones
    STANDARD Pass machines with free-form input."""
    examples = json.loads((REPO_ROOT / "tests/golden/ai_workflows.records.json").read_text())
    typed = _typed_example()
    machines: list[dict[str, Any]] = []
    for i in range(count):
        name = f"bench-scale-{i:04d}"
        arn = f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
        if i % 2:
            machines.append({
                "name": name, "arn": arn, "type": "STANDARD", "definition": json.dumps(PASSING),
                "comment": f"Bench machine {i}: passes its input on.", "tags": {},
                "schema": None, "output_schema": None,
            })  # fmt: skip
            continue
        machine = json.loads(json.dumps(typed))
        schema = machine["schema"]
        title = f"Ticket{i:04d}"
        schema["ref"]["name"] = title
        schema["ref"]["arn"] = schema["ref"]["arn"].rsplit("/", 1)[0] + f"/{title}"
        schema["content"] = _schema_content(schema["content"], title)
        machine.update(name=name, arn=arn, tags={SCHEMA_TAG_KEY: schema["ref"]["arn"]})
        machines.append(machine)
    return json.dumps({"recordsFormat": examples["recordsFormat"], "machines": machines})


def compile_scale(work: Path, count: int) -> tuple[Path, str]:
    """A package of ``count`` workflows compiled from records (no AWS); its folder and name."""
    from sfn_mcp.pipeline import compile_records
    from sfn_mcp.read.records import load_records
    from sfn_mcp.review.version import versioned_files
    from sfn_mcp.settings import load_settings

    name = f"bench_scale_{count}"
    output = work / "scale"
    settings = load_settings(
        {"name": name, "output": str(output), "schema-tag-key": SCHEMA_TAG_KEY},
        config_path=None,
        env={},
        cwd=work,
    )
    compiled = compile_records(settings, load_records(scale_records(count)))
    for path, text in versioned_files(compiled, output / name).items():
        target = output / name / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    return output, name


def scale_prefix(count: int) -> str:
    return f"bench-n{count}-"


def scale_package(count: int) -> str:
    return f"bench_n{count}"


@dataclass
class Seeded:
    machines: int
    schemas: int
    seconds: float
    listed: int  # what one unpaginated ListStateMachines returned, as the anchor calls it
    next_token: bool  # whether that call also returned a nextToken (the anchor ignores it)


def seed_scale(stack: LocalAws, count: int) -> Seeded:
    """Create N machines ``bench-n<N>-wf0000`` ...: even ones the daily_etl example with a
    schema of their own (``EtlN<N>x0000`` in SCALE_REGISTRY, tagged SCHEMA_TAG_KEY at create),
    odd ones Pass machines. Schemas first, then machines, each kind on SEED_THREADS threads
    sharing one client (boto3 clients are thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.config import Config as BotoConfig

    pool = BotoConfig(max_pool_connections=SEED_THREADS * 2)
    sfn = stack.client("stepfunctions", config=pool)
    registry = stack.client("schemas", config=pool)
    typed = _typed_example()
    started = time.perf_counter()
    registry.create_registry(RegistryName=SCALE_REGISTRY)
    schemas: list[tuple[str, str]] = []  # (name, content)
    machines: list[dict[str, Any]] = []
    for i in range(count):
        name = f"{scale_prefix(count)}wf{i:04d}"
        if i % 2:
            definition = {"Comment": f"Bench machine {i}: passes its input on.", **PASSING}
            machines.append({"name": name, "definition": json.dumps(definition)})
            continue
        title = f"EtlN{count}x{i:04d}"
        schemas.append((title, _schema_content(typed["schema"]["content"], title)))
        arn = f"arn:aws:schemas:us-east-1:000000000000:schema/{SCALE_REGISTRY}/{title}"
        machines.append({
            "name": name,
            "definition": typed["definition"],
            "tags": [{"key": SCHEMA_TAG_KEY, "value": arn}],
        })  # fmt: skip

    def create_schema(item: tuple[str, str]) -> None:
        registry.create_schema(
            RegistryName=SCALE_REGISTRY,
            SchemaName=item[0],
            Type="JSONSchemaDraft4",
            Content=item[1],
        )

    def create_machine(spec: dict[str, Any]) -> None:
        sfn.create_state_machine(type="STANDARD", roleArn=STATE_MACHINE_ROLE, **spec)

    with ThreadPoolExecutor(SEED_THREADS) as executor:
        list(executor.map(create_schema, schemas))
        list(executor.map(create_machine, machines))
    seconds = time.perf_counter() - started
    page = sfn.list_state_machines()
    listed = len(page.get("stateMachines", []))
    progress(
        f"scale N={count}: created {len(machines)} machines and {len(schemas)} schemas in "
        f"{seconds:.1f} s ({SEED_THREADS} threads); ListStateMachines returns {listed}"
    )
    return Seeded(len(machines), len(schemas), seconds, listed, bool(page.get("nextToken")))


@dataclass(frozen=True)
class ScaleTarget:
    """The servers of one N: sfn-mcp's package, and the anchor's spec (None: not measured)."""

    count: int
    folder: Path
    package: str
    env: dict[str, str]
    anchor: ServerSpec | None
    generate_seconds: float | None = None  # generate --source account, empty cache

    def spec(self, variant: str) -> ServerSpec:
        if variant == ANCHOR and self.anchor is not None:
            return self.anchor
        if variant == FLOOR:
            return ServerSpec(FLOOR, sys.executable, ("-c", FLOOR_SCRIPT), self.env, "mcp.server")
        flags = VARIANT_FLAGS.get(variant, ())
        return ServerSpec(
            SFN_MCP,
            sys.executable,
            ("-m", self.package, *flags),
            self.env,
            self.package,
            self.folder,
        )


def server_flags(target: ScaleTarget) -> set[str]:
    """The options of VARIANT_FLAGS that the generated server's --help names."""
    done = subprocess.run(
        [sys.executable, "-m", target.package, "--help"],
        cwd=target.folder,
        env=target.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"python -m {target.package} --help failed:\n{done.stderr[-2000:]}")
    return {flag for flag, _ in VARIANT_FLAGS.values() if flag in done.stdout}


@dataclass
class Listing:
    """One spawn → initialize → tools/list (every page when paging)."""

    initialize: float
    first: float  # spawn → first tools/list (page) answered
    walked: float  # spawn → last page answered
    rss: float  # MiB, after initialize
    size: int  # bytes of the first tools/list result as JSON
    tools: list[Tool]  # every page
    pages: int
    next_cursor: bool  # the first page had one


async def spawn_and_list(launcher: Launcher, spec: ServerSpec, walk: bool) -> Listing:
    started = time.perf_counter()
    async with launcher.connect(spec) as conn:
        rss = rss_mib(conn.pid)
        with anyio.fail_after(SCALE_TIMEOUT):
            first = await conn.session.list_tools()
        first_seconds = time.perf_counter() - started
        tools = list(first.tools)
        page, pages = first, 1
        while walk and page.next_cursor:
            with anyio.fail_after(SCALE_TIMEOUT):
                params = PaginatedRequestParams(cursor=page.next_cursor)
                page = await conn.session.list_tools(params=params)
            tools += page.tools
            pages += 1
        walked = time.perf_counter() - started
    size = len(first.model_dump_json(by_alias=True, exclude_none=True).encode())
    return Listing(
        conn.initialize_seconds,
        first_seconds,
        walked,
        rss,
        size,
        tools,
        pages,
        bool(first.next_cursor),
    )


@dataclass
class ScaleFigures:
    """Per N and variant: the listings of the timed runs, or why there are none."""

    runs: int
    listings: dict[int, dict[str, list[Listing]]] = field(default_factory=dict)
    notes: dict[int, dict[str, str]] = field(default_factory=dict)
    generate: dict[int, float] = field(default_factory=dict)
    seeded: dict[int, Seeded] = field(default_factory=dict)


def _workflow_tools(tools: list[Tool]) -> int:
    return sum(1 for tool in tools if tool.name != STATUS_TOOL)


def check_listing(target: ScaleTarget, variant: str, listing: Listing) -> None:
    """Raise when a server did not list what it serves (the anchor's count is reported only)."""
    n = target.count
    names = [tool.name for tool in listing.tools]
    if variant in (SFN_MCP, PAGED) and _workflow_tools(listing.tools) != n:
        raise BenchError(
            f"{target.package} ({variant}) lists {_workflow_tools(listing.tools)}, not {n}"
        )
    if variant == PAGED and len(set(names)) != len(names):
        raise BenchError(f"{target.package} --page-size lists a tool twice over its pages")
    if variant == PAGED and len(listing.tools) > PAGE_SIZE and not listing.next_cursor:
        raise BenchError(f"{target.package} --page-size {PAGE_SIZE}: first page has no nextCursor")
    if variant == SEARCH and not names:
        raise BenchError(f"{target.package} --surface search lists no tools")


async def measure_scale(
    launcher: Launcher, targets: list[ScaleTarget], figures: ScaleFigures
) -> None:
    """For each N: ``runs`` + 1 rounds (the first a warm-up), each spawning every variant once."""
    with anyio.fail_after(OVERALL_TIMEOUT):
        for target in targets:
            await measure_target(launcher, target, figures)


async def measure_target(launcher: Launcher, target: ScaleTarget, figures: ScaleFigures) -> None:
    """``runs`` + 1 rounds at one N (the first a warm-up), each spawning every variant once."""
    n = target.count
    listings: dict[str, list[Listing]] = {}
    notes = figures.notes.setdefault(n, {})
    flags = server_flags(target)
    variants = []
    for variant in VARIANTS:
        flag = VARIANT_FLAGS.get(variant, ("",))[0]
        if variant == ANCHOR and target.anchor is None:
            notes[variant] = "not measured here"
        elif flag and flag not in flags:
            notes[variant] = f"n/a (server has no {flag})"
        else:
            variants.append(variant)
    for run in range(figures.runs + 1):
        for variant in variants:
            listing = await spawn_and_list(launcher, target.spec(variant), variant == PAGED)
            check_listing(target, variant, listing)
            if run:
                listings.setdefault(variant, []).append(listing)
        progress(f"scale N={n}: {'warm-up' if not run else f'run {run}/{figures.runs}'} done")
    figures.listings[n] = listings


def scale_on_account(
    launcher: Launcher, work: Path, count: int, with_anchor: bool, figures: ScaleFigures
) -> None:
    """One N on a local AWS of its own that holds just those N machines (ministack's
    unpaginated ListStateMachines, the one call the anchor makes, stops at 1000 machines):
    seed it, compile the package from the account, measure both servers, stop it."""
    stack = LocalAws.start(
        work / f"aws-{count}", sfn_port=0, schemas_port=0, seed=False, log=progress
    )
    try:
        aws_env = dict(stack.env)
        figures.seeded[count] = seed_scale(stack, count)
        folder = work / "scale"
        cache = work / f"cache-{count}"  # empty: the cold compile, whatever ran before
        flags = ["--source", "account", "--prefix", scale_prefix(count)]
        flags += ["--name", scale_package(count), "--schema-tag-key", SCHEMA_TAG_KEY]
        seconds = generate(flags, folder, {**aws_env, "SFN_MCP_CACHE_DIR": str(cache)}, work)
        figures.generate[count] = seconds
        progress(f"scale N={count}: generate --source account {seconds:.1f} s")
        anchor = None
        if with_anchor:
            anchor = anchor_spec(aws_env, {"STATE_MACHINE_PREFIX": scale_prefix(count)})
        target = ScaleTarget(count, folder, scale_package(count), aws_env, anchor)
        anyio.run(measure_scale, launcher, [target], figures)
    finally:
        launcher.sweep()
        stack.stop(log=progress)


def scale_from_records(work: Path, sizes: tuple[int, ...]) -> list[ScaleTarget]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    targets = []
    for count in sizes:
        started = time.perf_counter()
        folder, name = compile_scale(work, count)
        progress(f"scale: compiled {count} workflows in {time.perf_counter() - started:.1f} s")
        targets.append(ScaleTarget(count, folder, name, env, None))
    return targets


def _cell(values: list[float], digits: int = 3) -> str:
    return f"{statistics.median(values):.{digits}f} / {min(values):.{digits}f}"


def print_scale(figures: ScaleFigures, out: TextIO, source: str) -> None:
    """The scale rows as one markdown table, N as columns."""
    sizes = list(figures.listings)
    if not sizes:
        return

    def row(label: str, cell: Callable[[int], str]) -> None:
        print(f"| {label} | " + " | ".join(cell(n) for n in sizes) + " |", file=out)

    def seconds(variant: str, pick: Callable[[Listing], float]) -> Callable[[int], str]:
        def cell(n: int) -> str:
            if variant in figures.notes[n]:
                return figures.notes[n][variant]
            return _cell([pick(listing) for listing in figures.listings[n][variant]]) + " s"

        return cell

    def ratio(variant: str) -> Callable[[int], str]:
        def cell(n: int) -> str:
            if variant in figures.notes[n]:
                return figures.notes[n][variant]
            ours = statistics.median(x.first for x in figures.listings[n][variant])
            floor = statistics.median(x.first for x in figures.listings[n][FLOOR])
            return f"{ours / floor:.2f}"

        return cell

    def once(variant: str, show: Callable[[Listing], str]) -> Callable[[int], str]:
        def cell(n: int) -> str:
            if variant in figures.notes[n]:
                return figures.notes[n][variant]
            return show(figures.listings[n][variant][0])

        return cell

    def rss(variant: str) -> Callable[[int], str]:
        def cell(n: int) -> str:
            if variant in figures.notes[n]:
                return figures.notes[n][variant]
            return _cell([x.rss for x in figures.listings[n][variant]], 1) + " MiB"

        return cell

    print(
        f"\n### Spawn → first `tools/list` at N workflows ({source}; median / min of "
        f"{figures.runs} runs)\n",
        file=out,
    )
    print("| | " + " | ".join(f"N = {n}" for n in sizes) + " |", file=out)
    print("|---" * (len(sizes) + 1) + "|", file=out)
    row("sfn-mcp spawn → `tools/list`", seconds(SFN_MCP, lambda x: x.first))
    row("anchor spawn → `tools/list`", seconds(ANCHOR, lambda x: x.first))
    row("floor (SDK low-level server, no tools)", seconds(FLOOR, lambda x: x.first))
    row("sfn-mcp / floor (medians)", ratio(SFN_MCP))
    row("anchor / floor (medians)", ratio(ANCHOR))
    row("sfn-mcp spawn → `initialize`", seconds(SFN_MCP, lambda x: x.initialize))
    row("anchor spawn → `initialize`", seconds(ANCHOR, lambda x: x.initialize))
    row("sfn-mcp `tools/list` size", once(SFN_MCP, lambda x: f"{x.size:,} B"))
    row("anchor `tools/list` size", once(ANCHOR, lambda x: f"{x.size:,} B"))
    row("tools listed, sfn-mcp / anchor", _tools_listed(figures))
    row("sfn-mcp RSS after `initialize`", rss(SFN_MCP))
    row("anchor RSS after `initialize`", rss(ANCHOR))
    row("sfn-mcp `--surface search` spawn → `tools/list`", seconds(SEARCH, lambda x: x.first))
    row(
        "`--surface search` `tools/list` size (tools)",
        once(SEARCH, lambda x: f"{x.size:,} B ({len(x.tools)})"),
    )
    row(f"sfn-mcp `--page-size {PAGE_SIZE}` spawn → first page", seconds(PAGED, lambda x: x.first))
    row(f"`--page-size {PAGE_SIZE}` spawn → every page walked", seconds(PAGED, lambda x: x.walked))
    row(
        f"`--page-size {PAGE_SIZE}` first page size (pages)",
        once(PAGED, lambda x: f"{x.size:,} B ({x.pages})"),
    )
    if figures.generate:
        row(
            "`sfn-mcp generate --source account`, empty cache (1 run)",
            lambda n: f"{figures.generate[n]:.1f} s" if n in figures.generate else "-",
        )
    if figures.seeded:
        seeded = figures.seeded
        row(
            "seeding: N machines, N/2 schemas",
            lambda n: f"{seeded[n].seconds:.1f} s" if n in seeded else "-",
        )
        row(
            "machines in the anchor's one `ListStateMachines` answer",
            lambda n: (
                (f"{seeded[n].listed}" + (" + nextToken" if seeded[n].next_token else ""))
                if n in seeded
                else "-"
            ),
        )
        print(
            f"\nEach N runs on a local AWS of its own that holds just its N machines, seeded on "
            f"{SEED_THREADS} threads. The anchor calls ListStateMachines once, unpaginated "
            "(AWS answers at most 100 machines; ministack up to 1000).",
            file=out,
        )
    search = next((runs[SEARCH][0] for runs in figures.listings.values() if SEARCH in runs), None)
    if search is not None:
        names = ", ".join(tool.name for tool in search.tools)
        print(f"\n`--surface search` lists: {names}.", file=out)


def _tools_listed(figures: ScaleFigures) -> Callable[[int], str]:
    def cell(n: int) -> str:
        found = []
        for variant in (SFN_MCP, ANCHOR):
            if variant in figures.notes[n]:
                found.append("-")
            else:
                found.append(str(_workflow_tools(figures.listings[n][variant][0].tools)))
        return " / ".join(found)

    return cell


# --------------------------------------------------------------------------- main


async def measure(launcher: Launcher, configs: list[Config], results: Results, runs: int) -> None:
    with anyio.fail_after(OVERALL_TIMEOUT):
        by_key = {config.key: config for config in configs}
        await measure_startup(launcher, by_key["examples"], results, runs, call_triage=True)
        await measure_startup(launcher, by_key["bulk"], results, runs, call_triage=False)
        await measure_express(launcher, by_key["express"], results, runs)


def build_configs(
    packages: Path, aws_env: dict[str, str], bulk: int, with_anchor: bool
) -> list[Config]:
    express = ",".join(burst.machine for burst in BURSTS)
    selections = {
        "examples": ("4 examples", 4, "ai_workflows", {"STATE_MACHINE_PREFIX": EXAMPLES_PREFIX}),
        "bulk": (f"{bulk} bulk", bulk, "bench_bulk", {"STATE_MACHINE_PREFIX": BULK_PREFIX}),
        "express": ("EXPRESS", len(BURSTS), "bench_express", {"STATE_MACHINE_LIST": express}),
    }
    configs = []
    for key, (title, machines, package, anchor_selection) in selections.items():
        specs = {SFN_MCP: sfn_mcp_spec(packages, package, aws_env)}
        if with_anchor:
            specs[ANCHOR] = anchor_spec(aws_env, anchor_selection)
        configs.append(Config(key, title, specs, machines))
    return configs


@contextlib.contextmanager
def work_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sfn-mcp-bench-"))
    try:
        yield path
    finally:
        if keep:
            progress(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if not args.no_anchor and not args.scale_only:
        ensure_anchor()
    results = Results()
    scale = ScaleFigures(args.runs)
    first_page: tuple[int, bool] | None = None
    compiled: dict[int, dict[str, list[float]]] = {}
    with work_dir(args.keep) as work:
        (work / "logs").mkdir()
        launcher = Launcher(work / "logs")
        stack: LocalAws | None = None
        try:
            if args.scale_only:
                targets = scale_from_records(work, args.sizes)
                anyio.run(measure_scale, launcher, targets, scale)
                print_scale(scale, sys.stdout, "sfn-mcp only, compiled from records, no AWS")
                return
            stack = LocalAws.start(work / "aws", sfn_port=0, schemas_port=0, log=progress)
            first_page = create_machines(stack, args.bulk)
            aws_env = dict(stack.env)
            packages = compile_packages(work, aws_env, results, args.runs, args.bulk)
            configs = build_configs(packages, aws_env, args.bulk, not args.no_anchor)
            anyio.run(measure, launcher, configs, results, args.runs)
            stack.stop(log=progress)
            stack = None
            for count in args.sizes:
                scale_on_account(launcher, work, count, not args.no_anchor, scale)
        finally:
            launcher.sweep()
            if stack is not None:
                stack.stop(log=progress)
        if args.compile_sizes:  # no AWS: after the local AWS has stopped
            compiled = measure_compile(work, args.compile_sizes, args.compile_runs)
    print_report(results, sys.stdout, args.runs, args.bulk, first_page)
    print_scale(scale, sys.stdout, "both servers on the same local AWS")
    if compiled:
        print_compile_report(compiled, args.compile_runs, sys.stdout)
    print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--bulk", type=int, default=150, help="bulk Pass machines (default 150)")
    parser.add_argument("--no-anchor", action="store_true", help="measure sfn-mcp only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--sizes",
        "--scale",
        dest="sizes",
        type=_sizes,
        default=SCALE_SIZES,
        help="workflow counts N of the spawn → tools/list scenario (default 10,100,300,1000); "
        "0 skips it",
    )
    parser.add_argument(
        "--scale-only",
        action="store_true",
        help="only the scale scenario, sfn-mcp alone, from records (no local AWS, no anchor)",
    )
    parser.add_argument(
        "--compile-sizes",
        type=_sizes,
        default=COMPILE_SIZES,
        help="machine counts of the compile figures (default 100,1000); 0 skips them",
    )
    parser.add_argument(
        "--compile-runs", type=int, default=3, help="runs per compile size (default 3)"
    )
    args = parser.parse_args()
    if not 1 <= args.runs <= 20 or not 1 <= args.bulk <= 1000 or not 1 <= args.compile_runs <= 20:
        parser.error("--runs and --compile-runs must be 1..20 and --bulk 1..1000")
    try:
        run(args)
    except* BenchError as group:
        for exc in _leaves(group):
            print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of counts") from None
    if any(not 0 <= size <= 5000 for size in sizes):
        raise argparse.ArgumentTypeError("each count must be 0..5000")
    return tuple(size for size in sizes if size)


def _leaves(group: BaseExceptionGroup[BenchError]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


# --------------------------------------------------------------------------- incremental compile
#
#   .venv/bin/python benchmarks/bench.py compile [--sizes 100,1000] [--runs 3]
#
# sfn-mcp generate and check on N machines with N distinct schemas, from a generated
# CloudFormation template (no AWS at all, so the figures are the compile alone): cold (empty
# cache), warm (nothing changed), after one schema changed, and with the cache turned off.

COMPILE_STEPS = (
    ("cold", "generate, empty cache"),
    ("warm", "generate, nothing changed"),
    ("check", "check, nothing changed"),
    ("one", "generate, one schema changed"),
    ("off", "generate, nothing changed, SFN_MCP_NO_CACHE=1"),
)
COMPILE_SIZES = (100, 1000)
COMPILE_TIMEOUT = 900.0
TYPED_PREFIX = "bench-typed-"


def typed_template(count: int, changed: int | None = None) -> str:
    """A JSON CloudFormation template: ``count`` STANDARD machines, each tagged with a schema of
    its own (JSON Schema draft 4, every fourth an OpenAPI 3 event); schema ``changed`` gets a
    new description."""
    resources: dict[str, Any] = {
        "Registry": {"Type": "AWS::EventSchemas::Registry", "Properties": {"RegistryName": "bench"}}
    }
    for i in range(count):
        name = f"Request{i:04d}"
        fields: dict[str, Any] = {
            "id": {"type": "string", "description": f"Identifier of request {i}."},
            f"amount{i}": {"type": "integer", "minimum": 0},
            "mode": {"type": "string", "enum": ["fast", "slow", f"mode{i}"]},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku"],
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                },
            },
        }
        described = f"Request {i}" + (" (changed)" if i == changed else "")
        if i % 4 == 3:
            kind = "OpenApi3"
            document: dict[str, Any] = {
                "openapi": "3.0.0",
                "info": {"title": name, "version": "1.0.0"},
                "paths": {},
                "components": {
                    "schemas": {
                        "AWSEvent": {
                            "type": "object",
                            "x-amazon-events-source": "com.example.bench",
                            "x-amazon-events-detail-type": name,
                            "properties": {"detail": {"$ref": f"#/components/schemas/{name}"}},
                        },
                        name: {
                            "type": "object",
                            "description": described,
                            "required": ["id"],
                            "properties": fields,
                        },
                    }
                },
            }
        else:
            kind = "JSONSchemaDraft4"
            document = {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "title": name,
                "description": described,
                "type": "object",
                "required": ["id"],
                "properties": fields,
            }
        resources[f"Schema{i:04d}"] = {
            "Type": "AWS::EventSchemas::Schema",
            "Properties": {
                "RegistryName": {"Fn::GetAtt": ["Registry", "RegistryName"]},
                "SchemaName": name,
                "Type": kind,
                "Content": json.dumps(document, indent=2),
            },
        }
        resources[f"Machine{i:04d}"] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": f"{TYPED_PREFIX}{i:04d}",
                "DefinitionString": json.dumps(
                    {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}
                ),
                "Tags": [
                    {
                        "Key": SCHEMA_TAG_KEY,
                        "Value": {"Fn::GetAtt": [f"Schema{i:04d}", "SchemaArn"]},
                    }
                ],
            },
        }
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


TYPED_CONFIG = f"""[tool.sfn-mcp]
source = "cloudformation"
templates = ["template.json"]
account = "000000000000"
region = "us-east-1"
prefix = "{TYPED_PREFIX}"
schema-tag-key = "{SCHEMA_TAG_KEY}"
name = "bench_typed"
output = "generated"
"""


def sfn_mcp_run(command: str, folder: Path, *, no_cache: bool = False) -> float:
    """Wall time of one ``sfn-mcp <command>`` in ``folder`` (its pyproject.toml configures it;
    no AWS variables reach it)."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    if no_cache:
        env["SFN_MCP_NO_CACHE"] = "1"
    started = time.perf_counter()
    done = subprocess.run(
        [str(SFN_MCP_BIN), command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"sfn-mcp {command} in {folder} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measure_compile(
    work: Path, sizes: tuple[int, ...], runs: int
) -> dict[int, dict[str, list[float]]]:
    """Seconds per step of COMPILE_STEPS, per size, ``runs`` times each (a fresh folder per
    run, so every cold run starts with no cache and no package)."""
    figures: dict[int, dict[str, list[float]]] = {}
    for count in sizes:
        steps: dict[str, list[float]] = {key: [] for key, _ in COMPILE_STEPS}
        for run in range(runs):
            folder = work / f"compile-{count}-{run}"
            folder.mkdir(parents=True)
            (folder / "pyproject.toml").write_text(TYPED_CONFIG, encoding="utf-8")
            (folder / "template.json").write_text(typed_template(count), encoding="utf-8")
            steps["cold"].append(sfn_mcp_run("generate", folder))
            steps["warm"].append(sfn_mcp_run("generate", folder))
            steps["check"].append(sfn_mcp_run("check", folder))
            steps["off"].append(sfn_mcp_run("generate", folder, no_cache=True))
            changed = typed_template(count, changed=run % count)
            (folder / "template.json").write_text(changed, encoding="utf-8")
            steps["one"].append(sfn_mcp_run("generate", folder))
            shutil.rmtree(folder, ignore_errors=True)
            progress(
                f"compile N={count}, run {run + 1}/{runs}: "
                + ", ".join(f"{key} {values[-1]:.2f} s" for key, values in steps.items())
            )
        figures[count] = steps
    return figures


def print_compile_report(
    figures: dict[int, dict[str, list[float]]], runs: int, out: TextIO
) -> None:
    print(
        f"\n### sfn-mcp compile, N machines with N schemas, no AWS: median / min of {runs} runs\n",
        file=out,
    )
    print("| | " + " | ".join(f"N = {n}" for n in figures) + " |", file=out)
    print("|---" * (len(figures) + 1) + "|", file=out)
    for key, label in COMPILE_STEPS:
        cells = [
            f"{statistics.median(steps[key]):.2f} / {min(steps[key]):.2f} s"
            for steps in figures.values()
        ]
        print(
            f"| `{label.split(',')[0]}`,{label.split(',', 1)[1]} | " + " | ".join(cells) + " |",
            file=out,
        )


def compile_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="bench.py compile", description="cold vs warm sfn-mcp compile of many machines"
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=COMPILE_SIZES,
        help="machine counts (default 100,1000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    sizes = args.sizes
    if not 1 <= args.runs <= 20 or not sizes:
        parser.error("--runs must be 1..20, and --sizes name at least one size")
    started = time.perf_counter()
    try:
        with work_dir(args.keep) as work:
            figures = measure_compile(work, sizes, args.runs)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
    print_compile_report(figures, args.runs, sys.stdout)
    print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["compile"]:
        compile_main(sys.argv[2:])
    else:
        main()
