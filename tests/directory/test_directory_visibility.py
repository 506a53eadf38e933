"""Who sees whom: visibility rules (only self, own departments, own plus listed; the deepest rule
wins) and hidden departments with their whitelists, applied alike to the tree and its counts,
department member lists, member cards and search."""

from __future__ import annotations

import httpx
from directory_world import ADMIN_NAME, DirectoryOrg, MakeOrg

from helpers import csrf_headers

API = "/api/v1/directory"


async def agency(make_org: MakeOrg) -> DirectoryOrg:
    """测试单位 (王主管)
    ├─ 办公室 ─ 综合科 (张三, 李四), 秘书科 (王五)
    ├─ 财务处 (赵六, and 李四 again)
    └─ 机要室 (孙七, and 钱八, who also sits in 秘书科)"""
    org = await make_org()
    await org.department("办公室", sort_order=1)
    await org.department("综合科", "办公室", sort_order=1)
    await org.department("秘书科", "办公室", sort_order=2)
    await org.department("财务处", sort_order=2)
    await org.department("机要室", sort_order=3)
    await org.member("张三", ["综合科"])
    await org.member("李四", ["综合科", "财务处"])
    await org.member("王五", ["秘书科"])
    await org.member("赵六", ["财务处"])
    await org.member("孙七", ["机要室"])
    await org.member("钱八", ["机要室", "秘书科"])
    return org


async def tree_counts(http: httpx.AsyncClient) -> dict[str, int]:
    answer = await http.get(f"{API}/tree")
    assert answer.status_code == 200, answer.text
    return {node["name"]: node["member_count"] for node in answer.json()["departments"]}


async def department_members(http: httpx.AsyncClient, org: DirectoryOrg, department: str) -> list[str] | str:
    """Names listed in the department, or the error code."""
    answer = await http.get(f"{API}/departments/{org.departments[department]}/members")
    if answer.status_code != 200:
        return str(answer.json()["code"])
    assert answer.json()["total"] == len(answer.json()["items"])
    return sorted(member["name"] for member in answer.json()["items"])


async def cards(http: httpx.AsyncClient, org: DirectoryOrg) -> list[str]:
    """Whose cards the viewer can open."""
    seen = []
    for name, membership_id in org.members.items():
        answer = await http.get(f"{API}/members/{membership_id}")
        assert answer.status_code in (200, 404), answer.text
        if answer.status_code == 200:
            seen.append(name)
        else:
            assert answer.json()["code"] == "not_found"
            reveal = await http.post(f"{API}/members/{membership_id}/mobile", headers=csrf_headers(http))
            assert (reveal.status_code, reveal.json()["code"]) == (404, "not_found")
    return sorted(seen)


async def found(http: httpx.AsyncClient, query: str) -> tuple[list[str], list[str]]:
    answer = await http.get(f"{API}/search", params={"q": query})
    assert answer.status_code == 200, answer.text
    return sorted(m["name"] for m in answer.json()["members"]), sorted(
        d["name"] for d in answer.json()["departments"]
    )


EVERYONE_BUT_THE_HIDDEN = sorted(["张三", "李四", "王五", "王主管", "赵六", "钱八"])


async def test_without_rules_everyone_but_hidden_departments_is_visible(make_org: MakeOrg) -> None:
    # given no rules, nothing hidden
    org = await agency(make_org)
    viewer = await org.client("王五")

    # then
    assert await tree_counts(viewer) == {
        "测试单位": 9,
        "办公室": 4,
        "综合科": 2,
        "秘书科": 2,
        "财务处": 2,
        "机要室": 2,
    }
    assert await cards(viewer, org) == sorted([*EVERYONE_BUT_THE_HIDDEN, "孙七"])


async def test_only_self(make_org: MakeOrg) -> None:
    # given members of 办公室 see only themselves
    org = await agency(make_org)
    await org.rule("办公室", "self")
    viewer = await org.client("王五")

    # then their own department stays on the way to themselves, with nobody else counted
    assert await tree_counts(viewer) == {"测试单位": 0, "办公室": 0, "秘书科": 0}
    assert await department_members(viewer, org, "秘书科") == ["王五"]
    assert await department_members(viewer, org, "财务处") == []
    assert await cards(viewer, org) == ["王五"]
    assert await found(viewer, "张") == ([], [])
    assert await found(viewer, "王") == (["王五"], [])
    assert await found(viewer, "财务") == ([], [])


async def test_own_departments_and_the_deepest_rule_wins(make_org: MakeOrg) -> None:
    # given 办公室 sees only self, but 综合科 (deeper) its own departments
    org = await agency(make_org)
    await org.rule("办公室", "self")
    await org.rule("综合科", "own_departments")
    viewer = await org.client("张三")

    # then: 综合科, and the way down to it; 李四's seat in 财务处 is not counted nor shown
    assert await tree_counts(viewer) == {"测试单位": 2, "办公室": 2, "综合科": 2}
    assert await department_members(viewer, org, "综合科") == ["张三", "李四"]
    assert await department_members(viewer, org, "秘书科") == []
    assert await department_members(viewer, org, "财务处") == []
    assert await cards(viewer, org) == ["张三", "李四"]
    card = (await viewer.get(f"{API}/members/{org.members['李四']}")).json()
    assert [seat["department_name"] for seat in card["seats"]] == ["综合科"]
    assert await found(viewer, "王") == ([], [])
    assert await found(viewer, "李") == (["李四"], [])
    assert await found(viewer, "综合") == ([], ["综合科"])
    assert await found(viewer, "秘书") == ([], [])


async def test_own_departments_include_everything_below(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    await org.rule("办公室", "own_departments")
    await org.member("周主任", ["办公室"])
    viewer = await org.client("周主任")

    assert await tree_counts(viewer) == {"测试单位": 5, "办公室": 5, "综合科": 2, "秘书科": 2}
    assert await cards(viewer, org) == ["周主任", "张三", "李四", "王五", "钱八"]


async def test_listed_departments(make_org: MakeOrg) -> None:
    # given 财务处 sees itself and 秘书科
    org = await agency(make_org)
    await org.rule("财务处", "listed", ["秘书科"])
    viewer = await org.client("赵六")

    # then
    assert await tree_counts(viewer) == {"测试单位": 4, "办公室": 2, "秘书科": 2, "财务处": 2}
    assert await department_members(viewer, org, "秘书科") == ["王五", "钱八"]
    assert await department_members(viewer, org, "综合科") == []
    assert await cards(viewer, org) == ["李四", "王五", "赵六", "钱八"]
    assert await found(viewer, "张") == ([], [])
    assert await found(viewer, "wangwu") == (["王五"], [])


async def test_a_rule_for_others_does_not_bind_the_viewer(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    await org.rule("财务处", "self")
    viewer = await org.client("王五")

    assert await cards(viewer, org) == sorted([*EVERYONE_BUT_THE_HIDDEN, "孙七"])


async def test_a_hidden_department_is_invisible_with_its_members(make_org: MakeOrg) -> None:
    # given 机要室 hidden
    org = await agency(make_org)
    await org.hide("机要室")
    viewer = await org.client("王五")

    # then: 钱八 stays visible through 秘书科, without the hidden seat
    assert await tree_counts(viewer) == {"测试单位": 7, "办公室": 4, "综合科": 2, "秘书科": 2, "财务处": 2}
    assert await department_members(viewer, org, "机要室") == "not_found"
    assert await cards(viewer, org) == EVERYONE_BUT_THE_HIDDEN
    card = (await viewer.get(f"{API}/members/{org.members['钱八']}")).json()
    assert [seat["department_name"] for seat in card["seats"]] == ["秘书科"]
    assert await found(viewer, "孙") == ([], [])
    assert await found(viewer, "机要") == ([], [])
    assert await found(viewer, "钱") == (["钱八"], [])


async def test_a_hidden_department_is_visible_to_the_whitelist_its_members_and_admins(
    make_org: MakeOrg,
) -> None:
    # given 机要室 hidden, except from 李四 and from 财务处
    org = await agency(make_org)
    await org.hide("机要室", members=["李四"], departments=["财务处"])
    everyone = sorted([*EVERYONE_BUT_THE_HIDDEN, "孙七"])

    for name in ("李四", "赵六", "孙七", ADMIN_NAME):
        viewer = await org.client(name)

        # then
        assert (await tree_counts(viewer))["机要室"] == 2, name
        assert await department_members(viewer, org, "机要室") == ["孙七", "钱八"], name
        assert await cards(viewer, org) == everyone, name
        assert await found(viewer, "机要") == ([], ["机要室"]), name
        assert await found(viewer, "孙") == (["孙七"], []), name


async def test_admins_see_past_every_rule(make_org: MakeOrg) -> None:
    org = await agency(make_org)
    await org.rule(org.name, "self")
    await org.hide("机要室")
    admin = await org.client(ADMIN_NAME)

    assert await tree_counts(admin) == {
        "测试单位": 9,
        "办公室": 4,
        "综合科": 2,
        "秘书科": 2,
        "财务处": 2,
        "机要室": 2,
    }
    assert await cards(admin, org) == sorted([*EVERYONE_BUT_THE_HIDDEN, "孙七"])
