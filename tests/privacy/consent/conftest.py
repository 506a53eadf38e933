"""privacy.consent tests: `world` is an organisation with its main admin (consent_world.World)."""

from __future__ import annotations

import pytest
from consent_world import MakeClient, World, open_world

from zhengtong.core.context import AppContext


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> World:
    return await open_world(context, make_client)
