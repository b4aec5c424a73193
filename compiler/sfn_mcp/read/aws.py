"""boto3 plumbing of the read stage (select and pull): session, clients, errors, a bounded pool."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Sequence
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


class Aws:
    """One boto3 session and its clients, configured with botocore's adaptive retries."""

    def __init__(self, settings: Settings) -> None:
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

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client: creating one is not thread-safe (shared session), using one is."""
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                make: Any = self.session.client
                self._clients[key] = make(service, region_name=key[1], config=self._config)
            return self._clients[key]


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
