"""Privacy on the member card: a hidden mobile (by the member, or 高管模式), fields the
organisation hides from staff, and the audited reveal of a full number."""

from __future__ import annotations

import pytest
from directory_world import ADMIN_NAME, DirectoryOrg, MakeOrg
from sqlalchemy import select

from helpers import csrf_headers
from zhengtong.platform.audit import AuditEntry

API = "/api/v1/directory"


async def office(make_org: MakeOrg) -> DirectoryOrg:
    """测试单位 (王主管) ─ 办公室: 张局长 (executive), 李秘书 (hides her mobile), 赵科员, 钱科员."""
    org = await make_org()
    await org.department("办公室")
    await org.member(
        "张局长", ["办公室"], executive=True, job_number="L-001", org_email="zhang@example.gov.cn"
    )
    await org.member("李秘书", ["办公室"], hide_mobile=True)
    await org.member("赵科员", ["办公室"], job_number="K-001", org_email="zhao@example.gov.cn")
    await org.member("钱科员", ["办公室"])
    return org


def masked(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}"


@pytest.mark.parametrize("hiding", ["张局长", "李秘书"])
async def test_a_hidden_mobile_is_hidden_from_colleagues(hiding: str, make_org: MakeOrg) -> None:
    # given
    org = await office(make_org)
    colleague = await org.client("赵科员")

    # when
    card = await colleague.get(f"{API}/members/{org.members[hiding]}")
    reveal = await colleague.post(
        f"{API}/members/{org.members[hiding]}/mobile", headers=csrf_headers(colleague)
    )

    # then
    assert card.status_code == 200
    assert (card.json()["mobile_masked"], card.json()["can_reveal_mobile"]) == (None, False)
    assert (reveal.status_code, reveal.json()["code"]) == (404, "not_found")
    assert await org.audit_count("directory.mobile_viewed") == 0


@pytest.mark.parametrize("hiding", ["张局长", "李秘书"])
@pytest.mark.parametrize("viewer", ["self", ADMIN_NAME])
async def test_a_hidden_mobile_is_shown_to_its_owner_and_to_admins(
    hiding: str, viewer: str, make_org: MakeOrg
) -> None:
    org = await office(make_org)
    http = await org.client(hiding if viewer == "self" else viewer)

    card = await http.get(f"{API}/members/{org.members[hiding]}")
    reveal = await http.post(f"{API}/members/{org.members[hiding]}/mobile", headers=csrf_headers(http))

    assert (card.json()["mobile_masked"], card.json()["can_reveal_mobile"]) == (
        masked(org.mobiles[hiding]),
        True,
    )
    assert reveal.status_code == 200
    assert reveal.json() == {"mobile": f"+86{org.mobiles[hiding]}"}


async def test_revealing_a_full_number_is_audited(make_org: MakeOrg) -> None:
    # given
    org = await office(make_org)
    colleague = await org.client("赵科员")

    # when
    card = await colleague.get(f"{API}/members/{org.members['钱科员']}")
    reveal = await colleague.post(
        f"{API}/members/{org.members['钱科员']}/mobile", headers=csrf_headers(colleague)
    )

    # then
    assert (card.json()["mobile_masked"], card.json()["can_reveal_mobile"]) == (
        masked(org.mobiles["钱科员"]),
        True,
    )
    assert reveal.json() == {"mobile": f"+86{org.mobiles['钱科员']}"}
    async with org.context.db.transaction() as session:
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.scope == org.id).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).scalar_one()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "directory.mobile_viewed",
        "member",
        org.members["钱科员"],
    )
    assert entry.actor_account_id is not None
    assert entry.actor_account_id == (await colleague.get("/api/v1/me")).json()["account_id"]
    assert org.mobiles["钱科员"] not in str(entry.detail)


async def test_hidden_fields_are_hidden_from_staff(make_org: MakeOrg) -> None:
    # given
    org = await office(make_org)
    await org.settings(hidden_fields=["mobile", "job_number", "org_email"])
    colleague = await org.client("钱科员")

    # when
    card = (await colleague.get(f"{API}/members/{org.members['赵科员']}")).json()
    reveal = await colleague.post(
        f"{API}/members/{org.members['赵科员']}/mobile", headers=csrf_headers(colleague)
    )

    # then
    assert (card["mobile_masked"], card["can_reveal_mobile"]) == (None, False)
    assert (card["job_number"], card["org_email"]) == (None, None)
    assert card["title"] == ""  # not hidden
    assert (reveal.status_code, reveal.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("viewer", ["赵科员", ADMIN_NAME])
async def test_hidden_fields_are_shown_to_the_member_and_to_admins(viewer: str, make_org: MakeOrg) -> None:
    org = await office(make_org)
    await org.settings(hidden_fields=["mobile", "job_number", "org_email"])
    http = await org.client(viewer)

    card = (await http.get(f"{API}/members/{org.members['赵科员']}")).json()

    assert (card["mobile_masked"], card["can_reveal_mobile"]) == (masked(org.mobiles["赵科员"]), True)
    assert (card["job_number"], card["org_email"]) == ("K-001", "zhao@example.gov.cn")


async def test_all_hideable_fields_can_be_hidden(make_org: MakeOrg) -> None:
    org = await office(make_org)
    await org.settings(
        hidden_fields=[
            "mobile",
            "job_number",
            "org_email",
            "office_phone",
            "work_place",
            "hired_date",
            "custom_fields",
        ]
    )
    colleague = await org.client("钱科员")

    card = (await colleague.get(f"{API}/members/{org.members['赵科员']}")).json()

    assert {key: value for key, value in card.items() if value is not None} == {
        "id": org.members["赵科员"],
        "name": "赵科员",
        "can_reveal_mobile": False,
        "status": "not_activated",
        "title": "",
        "seats": [
            {
                "department_id": org.departments["办公室"],
                "department_name": "办公室",
                "title": "",
                "is_head": False,
            }
        ],
    }


async def test_a_hidden_job_number_cannot_be_found_by_search(make_org: MakeOrg) -> None:
    # given job numbers are hidden from staff
    org = await office(make_org)
    await org.settings(hidden_fields=["job_number"])
    colleague = await org.client("钱科员")
    admin = await org.client(ADMIN_NAME)

    # when
    by_staff = await colleague.get(f"{API}/search", params={"q": "K-001"})
    by_admin = await admin.get(f"{API}/search", params={"q": "K-001"})

    # then searching cannot confirm whose number it is; admins still find it
    assert by_staff.json()["members"] == []
    assert [m["name"] for m in by_admin.json()["members"]] == ["赵科员"]


async def test_an_invisible_managers_name_stays_hidden(make_org: MakeOrg) -> None:
    # given 赵科员's manager sits in a department 钱科员 may not see
    org = await office(make_org)
    await org.department("机要室")
    boss = await org.member("孙主任", ["机要室"])
    await org.update("赵科员", manager_id=boss)
    await org.rule("办公室", "own_departments")
    colleague = await org.client("钱科员")

    # when
    card = (await colleague.get(f"{API}/members/{org.members['赵科员']}")).json()

    # then
    assert card["manager_name"] is None
