"""Browsing the address book: the department tree with member counts, a department's members
(heads first, in pages), a member's card, the watermark."""

from __future__ import annotations

from datetime import date

from directory_world import ADMIN_NAME, DirectoryOrg, MakeOrg

from zhengtong.org import service as org_service
from zhengtong.org.models import Department

API = "/api/v1/directory"


async def agency(make_org: MakeOrg) -> DirectoryOrg:
    """测试单位 (王主管) ─ 办公室 ─ 综合科 (张三 head, 李四, 王五, 赵六), 秘书科 (孙七);
    ─ 财务处 (钱八, and 李四 again)."""
    org = await make_org()
    await org.department("办公室", sort_order=1)
    await org.department("综合科", "办公室", sort_order=1)
    await org.department("秘书科", "办公室", sort_order=2)
    await org.department("财务处", sort_order=2)
    await org.member("李四", [("综合科", "科员", False), ("财务处", "兼职会计", False)], title="科员")
    await org.member("王五", ["综合科"], title="一级科员")
    await org.member("赵六", [("综合科", "", False)], title="四级主任科员")
    await org.member("张三", [("综合科", "科长", True)], title="科长")
    await org.member("孙七", ["秘书科"])
    await org.member("钱八", ["财务处"])
    return org


async def test_tree_counts_the_members_of_each_subtree(make_org: MakeOrg) -> None:
    # given
    org = await agency(make_org)
    viewer = await org.client("孙七")

    # when
    answer = await viewer.get(f"{API}/tree")

    # then: 李四 sits in two departments and counts in both
    assert answer.status_code == 200
    tree = answer.json()
    assert tree["departments"] == [
        {"id": org.root_id, "parent_id": None, "name": "测试单位", "sort_order": 0, "member_count": 8},
        {
            "id": org.departments["办公室"],
            "parent_id": org.root_id,
            "name": "办公室",
            "sort_order": 1,
            "member_count": 5,
        },
        {
            "id": org.departments["综合科"],
            "parent_id": org.departments["办公室"],
            "name": "综合科",
            "sort_order": 1,
            "member_count": 4,
        },
        {
            "id": org.departments["秘书科"],
            "parent_id": org.departments["办公室"],
            "name": "秘书科",
            "sort_order": 2,
            "member_count": 1,
        },
        {
            "id": org.departments["财务处"],
            "parent_id": org.root_id,
            "name": "财务处",
            "sort_order": 2,
            "member_count": 2,
        },
    ]
    assert tree["watermark"] == {"enabled": False, "text": ""}


async def test_department_members_heads_first_in_pages(make_org: MakeOrg) -> None:
    # given
    org = await agency(make_org)
    viewer = await org.client("孙七")
    path = f"{API}/departments/{org.departments['综合科']}/members"

    # when
    first = await viewer.get(path, params={"limit": 2})
    second = await viewer.get(path, params={"limit": 2, "offset": 2})

    # then: the head, then by name (the title is the one held in this department)
    assert first.status_code == 200
    assert first.json() == {
        "total": 4,
        "items": [
            {
                "id": org.members["张三"],
                "name": "张三",
                "title": "科长",
                "is_head": True,
                "avatar_key": None,
                "department_names": [],  # only search results name departments
            },
            {
                "id": org.members["李四"],
                "name": "李四",
                "title": "科员",
                "is_head": False,
                "avatar_key": None,
                "department_names": [],
            },
        ],
    }
    assert second.json()["total"] == 4
    assert [(m["name"], m["title"]) for m in second.json()["items"]] == [
        ("王五", "一级科员"),
        ("赵六", "四级主任科员"),
    ]


async def test_department_members_shows_the_title_held_there(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    viewer = await org.client("孙七")

    answer = await viewer.get(f"{API}/departments/{org.departments['财务处']}/members")

    # 钱八's first department comes before 李四's second one
    assert [(m["name"], m["title"]) for m in answer.json()["items"]] == [("李四", "兼职会计"), ("钱八", "")]


async def test_unknown_department_is_not_found(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    viewer = await org.client("孙七")

    answer = await viewer.get(f"{API}/departments/01UNKNOWNDEPARTMENT/members")

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


async def test_member_card(make_org: MakeOrg) -> None:
    # given
    org = await agency(make_org)
    await org.update(
        "李四",
        job_number="A-007",
        org_email="lisi@example.gov.cn",
        office_phone="010-66668888",
        work_place="2 号楼 305",
        hired_date=date(2018, 9, 1),
        manager_id=org.members["张三"],
    )
    viewer = await org.client("孙七")

    # when
    answer = await viewer.get(f"{API}/members/{org.members['李四']}")

    # then
    assert answer.status_code == 200
    mobile = org.mobiles["李四"]
    assert answer.json() == {
        "id": org.members["李四"],
        "name": "李四",
        "mobile_masked": f"{mobile[:3]}****{mobile[-4:]}",
        "can_reveal_mobile": True,
        "status": "not_activated",
        "job_number": "A-007",
        "title": "科员",
        "org_email": "lisi@example.gov.cn",
        "office_phone": "010-66668888",
        "work_place": "2 号楼 305",
        "hired_date": "2018-09-01",
        "custom_fields": {},
        "manager_name": "张三",
        "seats": [
            {
                "department_id": org.departments["综合科"],
                "department_name": "综合科",
                "title": "科员",
                "is_head": False,
            },
            {
                "department_id": org.departments["财务处"],
                "department_name": "财务处",
                "title": "兼职会计",
                "is_head": False,
            },
        ],
    }


async def test_unknown_member_is_not_found(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    viewer = await org.client("孙七")

    card = await viewer.get(f"{API}/members/01UNKNOWNMEMBER")

    assert (card.status_code, card.json()["code"]) == (404, "not_found")


async def test_watermark_is_the_viewers_name_and_last_four_digits(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    await org.settings(watermark=True)
    viewer = await org.client("孙七")
    admin = await org.client(ADMIN_NAME)

    seen = (await viewer.get(f"{API}/tree")).json()["watermark"]
    seen_by_admin = (await admin.get(f"{API}/tree")).json()["watermark"]

    assert seen == {"enabled": True, "text": f"孙七 {org.mobiles['孙七'][-4:]}"}
    assert seen_by_admin == {"enabled": True, "text": f"{ADMIN_NAME} {org.mobiles[ADMIN_NAME][-4:]}"}


async def test_directory_needs_a_login(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    anonymous = org.make_client()

    answers = [
        await anonymous.get(f"{API}/tree"),
        await anonymous.get(f"{API}/departments/{org.root_id}/members"),
        await anonymous.get(f"{API}/members/{org.members['张三']}"),
        await anonymous.post(f"{API}/members/{org.members['张三']}/mobile"),
        await anonymous.get(f"{API}/search", params={"q": "张"}),
    ]

    for answer in answers:
        assert (answer.status_code, answer.json()["code"]) == (401, "auth.required")


async def test_tree_follows_a_moved_department(make_org: MakeOrg) -> None:
    # given 综合科 moved under 财务处
    org = await agency(make_org)
    async with org.context.db.transaction() as session:
        section = await session.get(Department, org.departments["综合科"])
        assert section is not None

        await org_service.update_department(
            session,
            org.context,
            org.scope,
            section,
            org_service.DepartmentChanges(parent_id=org.departments["财务处"]),
            actor_id=org.admin_account_id,
            ip="192.0.2.1",
        )
    viewer = await org.client("孙七")

    # when
    tree = (await viewer.get(f"{API}/tree")).json()["departments"]

    # then
    counts = {node["name"]: node["member_count"] for node in tree}
    assert counts == {"测试单位": 8, "办公室": 1, "秘书科": 1, "财务处": 6, "综合科": 4}
