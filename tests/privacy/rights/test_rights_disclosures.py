"""The disclosure ledger: admins record legal requests, domains call `record_disclosure`, each
person sees what was disclosed about them, and nobody sees another organisation's ledger."""

from __future__ import annotations

from datetime import timedelta

from rights_world import MakeClient, add_person, open_org
from sqlalchemy import func, select

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.core.inventory import DataClass
from zhengtong.platform.audit import AuditEntry
from zhengtong.privacy.rights.disclosures import record_disclosure
from zhengtong.privacy.rights.models import (
    Disclosure,
    DisclosureSource,
    DisclosureSubject,
    LegalBasis,
    RecipientKind,
)
from zhengtong.privacy.rights.workdays import local_date

LEGAL_REQUEST = {
    "recipient_kind": "authority",
    "recipient": "某市公安局网安支队",
    "data_categories": ["identity", "contact"],
    "legal_basis": "law",
    "reference": "公(网)调证字〔2026〕118号",
    "purpose": "依法调取证据",
}


async def _ledger_size(context: AppContext) -> tuple[int, int]:
    async with context.db.transaction() as session:
        disclosures = await session.scalar(select(func.count()).select_from(Disclosure))
        subjects = await session.scalar(select(func.count()).select_from(DisclosureSubject))
    return int(disclosures or 0), int(subjects or 0)


async def test_an_admin_records_a_legal_request_and_the_person_sees_it(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "披露单位")
    concerned = await add_person(context, make_client, org, "被调取人")
    bystander = await add_person(context, make_client, org, "旁观者")

    recorded = await org.admin.post(
        "/privacy/admin/disclosures", {**LEGAL_REQUEST, "membership_ids": [concerned.membership_id]}
    )

    assert recorded.status_code == 201, recorded.text
    entry = recorded.json()
    assert entry["subjects"] == [{"membership_id": concerned.membership_id, "name": "被调取人"}]
    assert entry["source"] == "admin"
    ledger = (await org.admin.get("/privacy/admin/disclosures")).json()
    assert [item["id"] for item in ledger] == [entry["id"]]

    [seen] = (await concerned.get("/privacy/disclosures")).json()
    assert seen["recipient"] == "某市公安局网安支队"
    assert seen["legal_basis"] == "law"
    assert seen["data_categories"] == ["contact", "identity"]
    assert seen["reference"] == "公(网)调证字〔2026〕118号"
    assert seen["organization_name"] == "披露单位"
    assert "subjects" not in seen  # the person is not told who else was concerned
    assert (await bystander.get("/privacy/disclosures")).json() == []
    async with context.db.transaction() as session:
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "privacy.disclosure_recorded")
        )
    assert audited is not None
    assert audited.detail == {
        "source": "admin",
        "legal_basis": "law",
        "recipient_kind": "authority",
        "people": 1,
    }


async def test_domains_record_disclosures_through_the_service_function(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "应用单位")
    person = await add_person(context, make_client, org, "应用用户")

    async with context.db.transaction() as session:
        await record_disclosure(
            session,
            context,
            org_id=org.id,
            recipient_kind=RecipientKind.APP,
            recipient="会议室预订（第三方应用）",
            data_categories=[DataClass.IDENTITY],
            legal_basis=LegalBasis.CONSENT,
            membership_ids=[person.membership_id],
            source=DisclosureSource.APP,
            source_ref="app-42",
            purpose="应用获取用户ID、头像和姓名",
        )

    [seen] = (await person.get("/privacy/disclosures")).json()
    assert seen["recipient_kind"] == "app"
    assert seen["source"] == "app"
    assert seen["legal_basis"] == "consent"


async def test_a_disclosure_under_legal_secrecy_is_shown_once_the_secrecy_ends(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "保密单位")
    person = await add_person(context, make_client, org, "保密对象")
    until = local_date(utcnow()) + timedelta(days=30)

    recorded = await org.admin.post(
        "/privacy/admin/disclosures",
        {**LEGAL_REQUEST, "membership_ids": [person.membership_id], "withhold_until": until.isoformat()},
    )

    assert recorded.status_code == 201, recorded.text
    assert (await person.get("/privacy/disclosures")).json() == []
    async with context.db.transaction() as session:
        disclosure = await session.get(Disclosure, recorded.json()["id"])
        assert disclosure is not None
        disclosure.withhold_until = local_date(utcnow())  # the secrecy ends today
    assert len((await person.get("/privacy/disclosures")).json()) == 1


async def test_the_ledger_is_the_organisations_own(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org_a = await open_org(context, make_client, "甲披露单位")
    org_b = await open_org(context, make_client, "乙披露单位")
    person_a = await add_person(context, make_client, org_a, "甲的人")
    member_a = await add_person(context, make_client, org_a, "甲的普通成员")
    await org_a.admin.post(
        "/privacy/admin/disclosures", {**LEGAL_REQUEST, "membership_ids": [person_a.membership_id]}
    )
    before = await _ledger_size(context)

    # Org B's admin sees none of A's ledger and cannot record about A's members.
    assert (await org_b.admin.get("/privacy/admin/disclosures")).json() == []
    foreign = await org_b.admin.post(
        "/privacy/admin/disclosures", {**LEGAL_REQUEST, "membership_ids": [person_a.membership_id]}
    )
    assert foreign.status_code == 404
    # A member without the admin duty neither reads nor writes the ledger.
    for answer in (
        await member_a.get("/privacy/admin/disclosures"),
        await member_a.post(
            "/privacy/admin/disclosures", {**LEGAL_REQUEST, "membership_ids": [person_a.membership_id]}
        ),
    ):
        assert answer.status_code == 403
        assert answer.json()["code"] == "org.admin_required"
    # The service function refuses people of another organisation too.
    async with context.db.transaction() as session:
        try:
            await record_disclosure(
                session,
                context,
                org_id=org_b.id,
                recipient_kind=RecipientKind.APP,
                recipient="x",
                data_categories=[DataClass.IDENTITY],
                legal_basis=LegalBasis.CONSENT,
                membership_ids=[person_a.membership_id],
            )
        except AppError as error:
            assert error.error.code == "privacy.rights.unknown_subject"
        else:
            raise AssertionError("a disclosure about another organisation's member was recorded")

    assert await _ledger_size(context) == before
