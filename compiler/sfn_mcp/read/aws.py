"""boto3 plumbing of the read stage (select and pull): session, clients, errors, a bounded pool."""

from __future__ import annotations

import copy
import difflib
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config

from sfn_mcp.diagnostics import CompileError, Counter, quiet_count
from sfn_mcp.settings import Settings

T = TypeVar("T")
R = TypeVar("R")

CREDENTIALS_HINT = (
    "configure AWS credentials (AWS_PROFILE / --profile, `aws configure`, or AWS_ACCESS_KEY_ID "
    "and AWS_SECRET_ACCESS_KEY); in the sfn-mcp repository, `make aws-local` and "
    "`. .aws-local/env` give a local AWS"
)


# The calls a run of several packages makes once for all of them (same arguments, same answer).
READ_ONCE = frozenset(
    {
        "describe_state_machine",
        "describe_state_machine_alias",
        "list_tags_for_resource",
        "describe_schema",
    }
)


class Aws:
    """One boto3 session and its clients, configured with botocore's adaptive retries.

    ``shared``: the packages of one run that read from this account and region share it, and
    each read (the listing, and every call in ``READ_ONCE`` with the same arguments) is made
    once: a later package gets the first one's answer, or its error, again."""

    def __init__(self, settings: Settings, *, shared: bool = False) -> None:
        try:
            self.session = boto3.session.Session(
                profile_name=settings.profile, region_name=settings.region
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise CompileError(str(exc), hint="check --profile / AWS_PROFILE") from exc
        if not self.session.region_name:
            raise CompileError(
                "no AWS region configured",
                hint="pass --region, set AWS_REGION, or set region in [tool.sfn-mcp]",
            )
        self.region: str = self.session.region_name
        _check_region(self.session, self.region)
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": 5},
            max_pool_connections=settings.max_workers + 2,
            user_agent_extra="sfn-mcp",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._memo: dict[Hashable, tuple[bool, Any]] | None = {} if shared else None

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, made once per shared session (every time otherwise); its error, too."""
        if self._memo is None:
            return compute()
        with self._lock:
            known = self._memo.get(key)
        if known is None:
            try:
                known = (True, compute())
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                known = (False, exc)
            except CompileError as exc:
                known = (False, exc)
            with self._lock:
                known = self._memo.setdefault(key, known)
        ok, value = known
        if not ok:
            raise value
        answer: T = copy.deepcopy(value)  # callers own what they get
        return answer

    def made(self, key: Hashable) -> bool:
        """Whether ``once(key, ...)`` has an answer already (shared sessions only)."""
        with self._lock:
            return self._memo is not None and key in self._memo

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client: creating one is not thread-safe (shared session), using one is."""
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                make: Any = self.session.client
                client = make(service, region_name=key[1], config=self._config)
                self._clients[key] = client if self._memo is None else _ReadOnce(self, client)
            return self._clients[key]


class _ReadOnce:
    """A client whose ``READ_ONCE`` calls go through ``Aws.once``; everything else is the
    client's own."""

    def __init__(self, aws: Aws, client: Any) -> None:
        self._aws = aws
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in READ_ONCE:
            return attribute
        where = (self._client.meta.service_model.service_name, self._client.meta.region_name)

        def call(**kwargs: Any) -> Any:
            key = (*where, name, repr(sorted(kwargs.items())))
            return self._aws.once(key, lambda: attribute(**kwargs))

        return call


def _check_region(session: boto3.session.Session, region: str) -> None:
    """A region botocore does not know is most likely mistyped: say so, with the nearest one,
    instead of letting it read like a network failure later."""
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("stepfunctions", partition_name=partition)
    }
    if not known or region in known:
        return
    near = difflib.get_close_matches(region, sorted(known), n=2, cutoff=0.75)
    guess = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    raise CompileError(
        f"region {region!r} is not an AWS region that Step Functions runs in{guess}",
        hint="check --region / AWS_REGION / region in [tool.sfn-mcp]; if it is a region newer "
        "than this botocore, upgrade boto3",
    )


def describe_error(exc: Exception) -> str:
    """``AccessDeniedException: User … is not authorized`` — the AWS code first, then the text."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        text = f"{error.get('Code', 'Unknown')}: {error.get('Message', '').strip()}".rstrip(": ")
    else:
        text = f"{type(exc).__name__}: {exc}"
    # a proxy or a wrong endpoint can answer with a whole HTML page
    return text if len(text) <= 300 else text[:300] + " …"


def error_hint(exc: Exception) -> str:
    """What to do next, by AWS error code."""
    code = ""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
    if "AccessDenied" in code or code in ("UnauthorizedOperation", "UnrecognizedClientException"):
        return CREDENTIALS_HINT
    if code.startswith("Throttl"):
        return "AWS kept throttling after retries; try again, or lower max-workers"
    return "check the endpoint (AWS_ENDPOINT_URL*) and region the compiler talks to"


def fatal_environment_error(exc: Exception) -> CompileError | None:
    """Errors that would hit every call alike (no credentials, endpoint down): report once."""
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return CompileError(f"no usable AWS credentials: {exc}", hint=CREDENTIALS_HINT)
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return CompileError(
            f"cannot reach AWS: {exc}",
            hint="check the network and AWS_ENDPOINT_URL*; in the sfn-mcp repository, "
            "`make aws-local` starts the local AWS",
        )
    return None


@dataclass(frozen=True)
class Failure:
    """One item of a pool that failed: what failed (``describe(item)``) and the AWS error."""

    message: str
    code: str


def error_code(exc: Exception) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def run_each(
    items: Sequence[T],
    work: Callable[[T], R],
    *,
    workers: int,
    describe: Callable[[T], str],
    label: str,
    count: Counter = quiet_count,
) -> list[R | Failure]:
    """Run ``work`` over ``items`` on a bounded pool, in order. Each item's result, or the
    Failure that names it (``describe(item)``) with its AWS error; an error that would hit every
    call alike (no credentials, endpoint down) stops the run at once."""
    results: list[R | Failure] = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items) or 1))) as pool:
        futures = [pool.submit(work, item) for item in items]
        for index, future in enumerate(futures):
            try:
                results.append(future.result())
            except CompileError as exc:
                results.append(Failure("; ".join(exc.problems), ""))
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                fatal = fatal_environment_error(exc)
                if fatal:
                    for other in futures:
                        other.cancel()
                    raise fatal from exc
                message = f"{describe(items[index])}: {describe_error(exc)}"
                results.append(Failure(message, error_code(exc)))
            count(label, index + 1, len(items))
    return results
