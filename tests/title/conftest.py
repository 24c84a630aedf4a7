"""Fixtures of the title-review tests; the harness itself is title_flow.py (imported by name, unlike a conftest)."""

from __future__ import annotations

import pytest
from title_flow import Flow, build_world


@pytest.fixture()
def world(ctx):
    """The acceptance cases' units, offices and applicants, with audited archives."""
    build_world()
    return ctx


@pytest.fixture()
def flow(world):
    return Flow(world.test_client())
