"""Fixtures shared by the privacy tests: the canary world (see canary_world.py)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from canary_world import CanaryWorld, build_canary_world

from zhengtong.core.context import AppContext


@pytest.fixture
async def canary_world(
    app: object, context: AppContext, make_client: Callable[..., httpx.AsyncClient]
) -> CanaryWorld:
    """Two organisations whose canary members have data everywhere (see canary_world.py)."""
    return await build_canary_world(context, make_client)
