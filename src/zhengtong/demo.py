"""`zhengtong demo`: a demonstration organisation to log in to, created once (idempotent).

The organisation and directory issue grows this into ~200 members in a realistic department
tree; for now it holds one admin and a handful of members.
"""

from __future__ import annotations

from zhengtong.core.config import Settings
from zhengtong.core.context import build_context
from zhengtong.identity import service as identity
from zhengtong.org import service as org_service
from zhengtong.org.models import MemberRole

DEMO_ORG_NAME = "政通示范单位"
DEMO_ADMIN = ("13800000001", "张明", MemberRole.MAIN_ADMIN)
DEMO_MEMBERS = [
    ("13800000002", "李华"),
    ("13800000003", "王芳"),
    ("13800000004", "刘洋"),
    ("13800000005", "陈静"),
    ("13800000006", "杨磊"),
]


async def seed_demo(settings: Settings) -> str:
    """Creates the demo organisation unless it exists; returns how to log in."""
    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            if await org_service.get_organization_by_name(session, DEMO_ORG_NAME) is None:
                organization = await org_service.create_organization(
                    session, context.keyring, name=DEMO_ORG_NAME
                )
                people = [DEMO_ADMIN, *((mobile, name, MemberRole.MEMBER) for mobile, name in DEMO_MEMBERS)]
                for mobile, name, role in people:
                    account, _ = await identity.get_or_create_account(session, context.keyring, mobile)
                    await org_service.add_membership(
                        session, org_id=organization.id, account_id=account.id, name=name, role=role
                    )
    finally:
        await context.close()
    return (
        f"Demo organisation “{DEMO_ORG_NAME}” is ready.\n"
        f"  Admin:  {DEMO_ADMIN[0]} ({DEMO_ADMIN[1]}; sets up two-step verification at first login)\n"
        f"  Member: {DEMO_MEMBERS[0][0]} ({DEMO_MEMBERS[0][1]})\n"
        "Log in with the mobile number; the SMS code is printed by `zhengtong outbox --last 1`."
    )
