"""Many schemas at once: each model looked up in the compile cache, the missing ones generated
(in worker interpreters, one per core, when there are many), every outcome stored.

The outcome of one schema is its model or its failure (the problems the generator or the checks
found), so a schema that cannot be used is not retried on every run either. Outcomes come back
in the order of the jobs whatever the scheduling, and each is computed by the same function
from the same inputs, so the pool and the cache change how long a compile takes, never what it
writes.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from sfn_mcp.cache import Cache
from sfn_mcp.diagnostics import CompileError, Diagnostic
from sfn_mcp.models.generate import EventInfo, GeneratedModel, generate_model
from sfn_mcp.models.profile import Profile
from sfn_mcp.read.records import Role, SchemaSource

KIND = "model"
# Worker interpreters pay for their start (importing the generator, about a second), so they
# are used only when there are at least this many models to generate.
POOL_THRESHOLD = 48
MAX_WORKERS = 8
CHUNK = 4  # the fewest schemas worth a worker of their own


@dataclass(frozen=True)
class Failure:
    """Why a schema gave no model: its problems, as CompileError carried them."""

    problems: tuple[Diagnostic, ...]
    hint: str

    def error(self) -> CompileError:
        return CompileError(self.problems, hint=self.hint)


Outcome = GeneratedModel | Failure
Job = tuple[SchemaSource, Role, Profile]


def attempt(job: Job) -> Outcome:
    """One schema's outcome (runs in a pool worker too: module level, plain data in and out)."""
    schema, role, profile = job
    try:
        return generate_model(schema, role, profile)
    except CompileError as exc:
        return Failure(tuple(exc.diagnostics), exc.hint)


def outcomes(jobs: Sequence[Job], cache: Cache | None) -> list[Outcome]:
    """The outcome of every job, in order: from the cache where it has them, else computed."""
    keys = [_key(cache, job) for job in jobs] if cache else []
    slots = [_slot(cache, job) for job in jobs] if cache else []
    found: list[Outcome | None] = (
        [cache.get(KIND, key, _decode, slot=slot) for key, slot in zip(keys, slots, strict=True)]
        if cache
        else [None] * len(jobs)
    )
    missing = [i for i, outcome in enumerate(found) if outcome is None]
    computed = _compute([jobs[i] for i in missing])
    for i, outcome in zip(missing, computed, strict=True):
        found[i] = outcome
        if cache:
            cache.put(KIND, keys[i], _encode(outcome), slot=slots[i])
    return [outcome for outcome in found if outcome is not None]


def _key(cache: Cache, job: Job) -> str:
    """Everything ``generate_model`` reads: the whole schema record (ARN, registry, name,
    version, type, content, description), the role and the client profile; the code is in the
    cache's salt."""
    schema, role, profile = job
    record = json.dumps(asdict(schema), sort_keys=True, ensure_ascii=False)
    return cache.key(KIND, role, profile, record)


def _slot(cache: Cache, job: Job) -> str:
    """One entry per schema version and role: a schema edited in place (a file's, whose
    version is its hash, or a registry's that changed under the same version) replaces it."""
    schema, role, profile = job
    return cache.slot(KIND, schema.ref.arn, schema.version, role, profile)


def workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _compute(jobs: list[Job]) -> list[Outcome]:
    count = min(workers(), len(jobs) // CHUNK)
    if len(jobs) < POOL_THRESHOLD or count < 2:
        return [attempt(job) for job in jobs]
    shares = [jobs[i::count] for i in range(count)]  # interleaved: similar work for each
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(_in_child, shares))
    results: list[Outcome | None] = [None] * len(jobs)
    for i, answer in enumerate(answers):
        results[i::count] = answer
    return [outcome for outcome in results if outcome is not None]


# A worker is a fresh interpreter with this one's import path (never a fork of this process,
# which may hold threads of the AWS reads, nor multiprocessing's re-import of the main module).
_WORKER = "import sys; sys.path[:0] = {path!r}; from sfn_mcp.models.batch import serve; serve()"
WORKER_TIMEOUT = 900.0


def _in_child(share: list[Job]) -> list[Outcome]:
    """The outcomes of ``share``, computed by a worker interpreter; if the worker cannot run or
    fails, the same computed here (where a real problem then shows as itself)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER.format(path=list(sys.path))],
            input=pickle.dumps(share),
            capture_output=True,
            timeout=WORKER_TIMEOUT,
            check=False,
        )
        if done.returncode == 0:
            answer = pickle.loads(done.stdout)
            if isinstance(answer, list) and len(answer) == len(share):
                return answer
    except (OSError, ValueError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError):
        pass
    return [attempt(job) for job in share]


def serve() -> None:
    """A worker's main: jobs (pickled) on stdin, their outcomes (pickled) on stdout."""
    jobs = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a library prints may reach the answer
    answer = pickle.dumps([attempt(job) for job in jobs])
    out.write(answer)
    out.flush()


def _encode(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Failure):
        return {
            "failure": [[d.level, d.message, d.hint] for d in outcome.problems],
            "hint": outcome.hint,
        }
    return {
        "model": {
            "source": outcome.source,
            "root_class": outcome.root_class,
            "description": outcome.description,
            "event": [outcome.event.source, outcome.event.detail_type] if outcome.event else None,
            "properties": list(outcome.properties),
            "input_schema": outcome.input_schema,
        }
    }


def _decode(value: Any) -> Outcome | None:
    """An outcome from a cache entry; None when the entry is not one (it is then recomputed)."""
    try:
        if "failure" in value:
            problems = tuple(
                Diagnostic(level, message, hint) for level, message, hint in value["failure"]
            )
            if not all(isinstance(x, str) for d in problems for x in asdict(d).values()):
                return None
            return Failure(problems, _str(value["hint"]))
        model = value["model"]
        event = model["event"]
        schema = model["input_schema"]
        if schema is not None and not isinstance(schema, dict):
            return None
        return GeneratedModel(
            source=_str(model["source"]),
            root_class=_str(model["root_class"]),
            description=_str(model["description"]),
            event=None if event is None else EventInfo(_str(event[0]), _str(event[1])),
            properties=tuple(_str(p) for p in model["properties"]),
            input_schema=schema,
        )
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
