"""Shared fixtures: a fresh local AWS for the integration tests.

``local_aws`` (session scope) starts ministack and the fake Schema Registry on free ports in a
temporary state directory, seeds the example workflows, and stops both at the end of the
session. It is only started when a selected test needs it; every test that uses it is marked
``integration`` automatically, so ``pytest -m "not integration"`` never starts it.

``count_executions(machine)`` counts the executions of a state machine (name or ARN) with a
paginated ListExecutions, e.g. to prove that a rejected call started none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from localaws.stack import LocalAws
from tests.fake_sfn import FakeSfn, serve_fake_sfn

LOCAL_AWS_FIXTURE = "local_aws"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be there before `-m` deselects.
    for item in items:
        uses_local_aws = LOCAL_AWS_FIXTURE in getattr(item, "fixturenames", ())
        if uses_local_aws and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    """A fresh, seeded local AWS for the whole session (free ports, private state dir)."""
    stack = LocalAws.start(tmp_path_factory.mktemp("aws-local"), sfn_port=0, schemas_port=0)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def count_executions(local_aws: LocalAws) -> Callable[[str], int]:
    """``count_executions(name_or_arn)``: executions of a state machine, over every page."""
    return local_aws.count_executions


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSfn]:
    """A scripted Step Functions endpoint that this process's boto3 clients reach."""
    yield from serve_fake_sfn(monkeypatch)
