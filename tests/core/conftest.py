"""Fixtures for the core client's tests (the shared ones are in tests/conftest.py).

- ``server``: the shared fake ClawRouter, failing the test on any request no route was
  scripted for; ``twin`` and ``make_twin`` reach it through ``httpx.MockTransport``.
"""

from __future__ import annotations

import pytest
from tests.support.server import FakeClawRouter


@pytest.fixture
def server(fake: FakeClawRouter) -> FakeClawRouter:
    fake.strict = True
    return fake
