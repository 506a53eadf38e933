"""Cancelling one's account (注销账号): confirmed by SMS, leaves every organisation the way an
admin removes a member, deletes the account; refused for the only main admin of an organisation."""

from __future__ import annotations

from rights_world import MakeClient, Person, add_person, open_org, run_jobs
from sqlalchemy import func, select

from helpers import forget_send_cooldown
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account, AuthSession
from zhengtong.im.models import Message
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.notify import read_outbox
from zhengtong.privacy.rights import exporting


def cancellation_code(context: AppContext, mobile: str) -> str:
    e164 = identity.normalise_mobile(mobile)
    for message in reversed(read_outbox(context.settings.outbox_path)):
        if message.to == e164 and message.template == "cancel_account_code":
            return str(message.params["code"])
    raise AssertionError(f"no cancellation code was sent to {mobile}")


async def _footprint(context: AppContext, account_id: str) -> tuple[int, int, int]:
    """(accounts, memberships, sessions) of the account."""
    async with context.db.transaction() as session:
        accounts = await session.scalar(select(func.count()).where(Account.id == account_id))
        memberships = await session.scalar(select(func.count()).where(Membership.account_id == account_id))
        sessions = await session.scalar(select(func.count()).where(AuthSession.account_id == account_id))
    return int(accounts or 0), int(memberships or 0), int(sessions or 0)


async def _send_code(person: Person, context: AppContext) -> None:
    await forget_send_cooldown(context, person.mobile)
    sent = await person.post("/privacy/account/cancellation/code")
    assert sent.status_code == 200, sent.text


async def test_cancelling_leaves_every_organisation_and_deletes_the_account(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org_a = await open_org(context, make_client, "注销甲单位")
    org_b = await open_org(context, make_client, "注销乙单位")
    person = await add_person(context, make_client, org_a, "要注销的人")
    await add_person(context, make_client, org_b, "要注销的人", mobile=person.mobile, log_in=False)
    colleague = await add_person(context, make_client, org_a, "同事")
    direct = (
        await person.post("/im/conversations/direct", {"membership_id": colleague.membership_id})
    ).json()
    sent = await person.post(f"/im/conversations/{direct['id']}/messages", {"text": "我下周离职"})
    assert sent.status_code == 200, sent.text
    check = await person.get("/privacy/account/cancellation")
    assert check.json() == {"blocked_by": []}
    export_job = (await person.post("/privacy/exports")).json()["job_id"]
    await run_jobs(context)
    export_file = exporting.storage_key(person.account_id, export_job)
    assert await context.storage.exists(export_file)

    await _send_code(person, context)
    wrong = await person.post("/privacy/account/cancellation", {"code": "000000"})
    assert wrong.status_code == 400, wrong.text
    assert await _footprint(context, person.account_id) == (1, 2, 1)

    await _send_code(person, context)
    cancelled = await person.post(
        "/privacy/account/cancellation", {"code": cancellation_code(context, person.mobile)}
    )

    assert cancelled.status_code == 204, cancelled.text
    assert await _footprint(context, person.account_id) == (0, 0, 0)
    assert (await person.get("/me")).status_code == 401
    assert not await context.storage.exists(export_file)  # the person's export went with the account
    async with context.db.transaction() as session:
        message = await session.get(Message, sent.json()["id"])
        removed = list(
            await session.scalars(
                select(AuditEntry.scope)
                .where(AuditEntry.action == "org.member_removed")
                .order_by(AuditEntry.scope)
            )
        )
        cancelled_entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "privacy.account_cancelled")
        )
    # The organisation's record stays, shown as from a removed member (the same path as removal).
    assert message is not None and message.sender_membership_id is None
    assert removed == sorted([org_a.id, org_b.id])
    assert cancelled_entry is not None
    assert cancelled_entry.scope == "platform"
    assert cancelled_entry.detail == {"organizations_left": 2}
    # The colleague is untouched.
    assert await _footprint(context, colleague.account_id) == (1, 1, 1)


async def test_the_only_main_admin_cannot_cancel_and_nothing_changes(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "唯一主管单位")
    admin = org.admin
    before = await _footprint(context, admin.account_id)

    check = await admin.get("/privacy/account/cancellation")
    assert check.json() == {"blocked_by": [{"id": org.id, "name": "唯一主管单位"}]}
    refused_code = await admin.post("/privacy/account/cancellation/code")
    assert refused_code.status_code == 409
    assert refused_code.json()["code"] == "privacy.rights.last_main_admin"
    assert refused_code.json()["detail"] == {"organizations": [{"id": org.id, "name": "唯一主管单位"}]}
    refused = await admin.post("/privacy/account/cancellation", {"code": "123456"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "privacy.rights.last_main_admin"

    assert await _footprint(context, admin.account_id) == before
    assert (await admin.get("/me")).status_code == 200
