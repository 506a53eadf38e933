"""Organisations are sealed from each other: a member of 乙单位 finds nothing of 甲单位 through any
address book endpoint, even with its ids, and even when they sit in both (in 乙单位 right now)."""

from __future__ import annotations

from directory_world import ADMIN_NAME, DirectoryOrg, MakeOrg

from helpers import csrf_headers

API = "/api/v1/directory"


async def two_organisations(make_org: MakeOrg) -> tuple[DirectoryOrg, DirectoryOrg]:
    first = await make_org("甲单位")
    await first.department("办公室")
    await first.member("张三", ["办公室"], job_number="J-001", title="科长")
    await first.member("张三丰", ["办公室"])
    second = await make_org("乙单位")
    await second.department("综合处")
    await second.member("李四", ["综合处"])
    return first, second


async def test_nothing_of_another_organisation_is_visible(make_org: MakeOrg) -> None:
    # given
    first, second = await two_organisations(make_org)
    for viewer_name in ("李四", ADMIN_NAME):
        viewer = await second.client(viewer_name)

        # when / then
        tree = (await viewer.get(f"{API}/tree")).json()["departments"]
        assert sorted(node["name"] for node in tree) == ["乙单位", "综合处"], viewer_name
        for department_id in first.departments.values():
            members = await viewer.get(f"{API}/departments/{department_id}/members")
            assert (members.status_code, members.json()["code"]) == (404, "not_found")
        for membership_id in first.members.values():
            card = await viewer.get(f"{API}/members/{membership_id}")
            reveal = await viewer.post(f"{API}/members/{membership_id}/mobile", headers=csrf_headers(viewer))
            assert (card.status_code, card.json()["code"]) == (404, "not_found")
            assert (reveal.status_code, reveal.json()["code"]) == (404, "not_found")
        for query in ("张三", "zhangsan", "zs", "j-001", "科长", "办公室", "甲单位", "王主管"):
            found = (await viewer.get(f"{API}/search", params={"q": query})).json()
            assert [m["name"] for m in found["members"]] in ([], ["王主管"]), query
            assert found["departments"] == [], query
            if found["members"]:
                assert found["members"][0]["id"] == second.members[ADMIN_NAME]


async def test_a_member_of_both_sees_only_the_current_organisation(make_org: MakeOrg) -> None:
    # given 李四 of 乙单位 is also in 甲单位, and works in 乙单位 now
    first, second = await two_organisations(make_org)
    await first.member("李四", ["办公室"], mobile=second.mobiles["李四"])
    viewer = await second.client("李四")
    switched = await viewer.put(
        "/api/v1/me/current-org", json={"org_id": second.id}, headers=csrf_headers(viewer)
    )
    assert switched.status_code == 200

    # when
    card = await viewer.get(f"{API}/members/{first.members['张三']}")
    found = (await viewer.get(f"{API}/search", params={"q": "张"})).json()
    tree = (await viewer.get(f"{API}/tree")).json()["departments"]

    # then
    assert (card.status_code, card.json()["code"]) == (404, "not_found")
    assert found == {"members": [], "departments": []}
    assert sorted(node["name"] for node in tree) == ["乙单位", "综合处"]

    # when they switch to 甲单位
    switched = await viewer.put(
        "/api/v1/me/current-org", json={"org_id": first.id}, headers=csrf_headers(viewer)
    )
    assert switched.status_code == 200

    # then 甲单位 is visible, and 乙单位 is not
    assert (await viewer.get(f"{API}/members/{first.members['张三']}")).status_code == 200
    other = await viewer.get(f"{API}/members/{second.members['李四']}")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
