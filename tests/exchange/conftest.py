"""Identities for the exchange tests: made in memory (no database), one per session."""

from __future__ import annotations

import pytest

from saraban.exchange.envelope import Address
from saraban.exchange.identity import Identity, make_identity


@pytest.fixture(scope="session")
def sender() -> Identity:
    """Deployment A (a ministry's server)."""
    return make_identity("saraban.opm.go.th", deployment_id="a1a1a1a1-0000-4000-8000-000000000001")


@pytest.fixture(scope="session")
def stranger() -> Identity:
    """A deployment nobody pinned."""
    return make_identity("saraban.example.org", deployment_id="c3c3c3c3-0000-4000-8000-000000000003")


@pytest.fixture(scope="session")
def to() -> Address:
    """An organisation at deployment B (a province)."""
    return Address("b2b2b2b2-0000-4000-8000-000000000002", "chiang-mai")
