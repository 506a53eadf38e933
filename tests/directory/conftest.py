"""Address book tests: `make_org` opens an organisation (see directory_world.DirectoryOrg)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from directory_world import ADMIN_NAME, IP, DirectoryOrg, MakeOrg
from sqlalchemy import select

from helpers import next_mobile
from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Membership


@pytest.fixture
def make_org(context: AppContext, make_client: Callable[..., httpx.AsyncClient]) -> MakeOrg:
    async def _make(name: str = "测试单位") -> DirectoryOrg:
        mobile = next_mobile()
        async with context.db.transaction() as session:
            organization = await org_service.open_organization(
                session, context, name=name, admin_mobile=mobile, admin_name=ADMIN_NAME, actor_id=None, ip=IP
            )
            admin = (
                await session.execute(select(Membership).where(Membership.org_id == organization.id))
            ).scalar_one()
            root = await org_service.root_department(session, organization.id)
        org = DirectoryOrg(
            context,
            make_client,
            organization.id,
            name,
            AdminScope(organization.id, admin.id, True, (), frozenset()),
            admin.account_id,
        )
        org.departments[name] = root.id
        org.members[ADMIN_NAME] = admin.id
        org.mobiles[ADMIN_NAME] = mobile
        return org

    return _make
