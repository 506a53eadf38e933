"""SCIM Groups: departments and the members seated in them."""

from __future__ import annotations

import httpx
from scim_setup import (
    BASE,
    DEPARTMENT,
    GROUP,
    assert_resource,
    assert_scim_error,
    audit_entries,
    create_group,
    create_user,
    open_scim_org,
    patch_body,
    seat_ids,
)
from sqlalchemy import select

from zhengtong.core.context import AppContext
from zhengtong.org.models import Department


async def _department(context: AppContext, department_id: str) -> Department | None:
    async with context.db.transaction() as session:
        return await session.get(Department, department_id)


async def test_groups_lifecycle_with_members(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    alice, bob, carol = [await create_user(client, org, name) for name in ("甲", "乙", "丙")]

    group = await create_group(client, org, "办公室", members=[{"value": alice["id"]}])

    assert_resource(group, "Group")
    assert group[DEPARTMENT] == {"parentId": org.root_id}
    assert group["members"] == [
        {
            "value": alice["id"],
            "display": "甲",
            "type": "User",
            "$ref": f"http://testserver/scim/v2/Users/{alice['id']}",
        }
    ]
    assert await seat_ids(context, alice["id"]) == {group["id"]}  # out of the root, into the department
    user = (await client.get(f"{BASE}/Users/{alice['id']}", headers=org.headers)).json()
    assert [g["value"] for g in user["groups"]] == [group["id"]]
    url = f"{BASE}/Groups/{group['id']}"

    added = await client.patch(
        url,
        json=patch_body(
            {"op": "add", "path": "members", "value": [{"value": bob["id"]}, {"value": carol["id"]}]}
        ),
        headers=org.headers,
    )

    assert added.status_code == 200, added.text
    assert [m["value"] for m in added.json()["members"]] == [alice["id"], bob["id"], carol["id"]]

    removed = await client.patch(
        url,
        json=patch_body(
            {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
            {"op": "remove", "path": "members", "value": [{"value": bob["id"]}]},  # as Entra ID sends it
            {"op": "replace", "path": "displayName", "value": "综合办公室"},
        ),
        headers=org.headers,
    )

    assert removed.status_code == 200, removed.text
    assert [m["value"] for m in removed.json()["members"]] == [carol["id"]]
    assert removed.json()["displayName"] == "综合办公室"
    assert await seat_ids(context, alice["id"]) == {org.root_id}  # no department left: the root

    not_empty = await client.delete(url, headers=org.headers)

    assert_scim_error(not_empty, 409, "mutability")
    assert await _department(context, group["id"]) is not None

    emptied = await client.put(
        url, json={"schemas": [GROUP], "displayName": "综合办公室"}, headers=org.headers
    )
    deleted = await client.delete(url, headers=org.headers)

    assert emptied.status_code == 200 and emptied.json()["members"] == []
    assert deleted.status_code == 204
    assert_scim_error(await client.get(url, headers=org.headers), 404)
    assert await seat_ids(context, carol["id"]) == {org.root_id}
    scim_actions = [
        e.action for e in await audit_entries(context, org.id) if e.action.startswith("scim.group")
    ]
    assert scim_actions == [
        "scim.group_created",
        "scim.group_patched",
        "scim.group_patched",
        "scim.group_replaced",
        "scim.group_deleted",
    ]


async def test_the_tree_through_the_department_extension(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    office = await create_group(client, org, "办公室")
    finance = await create_group(client, org, "财务处")

    section = await create_group(client, org, "综合科", **{DEPARTMENT: {"parentId": office["id"]}})

    assert section[DEPARTMENT] == {"parentId": office["id"]}
    moved = await client.patch(
        f"{BASE}/Groups/{section['id']}",
        json=patch_body({"op": "replace", "path": f"{DEPARTMENT}:parentId", "value": finance["id"]}),
        headers=org.headers,
    )
    assert moved.status_code == 200 and moved.json()[DEPARTMENT] == {"parentId": finance["id"]}
    stored = await _department(context, section["id"])
    assert stored is not None and stored.path.startswith(f"/{org.root_id}/{finance['id']}/")

    sibling_clash = await client.post(
        f"{BASE}/Groups",
        json={"schemas": [GROUP], "displayName": "综合科", DEPARTMENT: {"parentId": finance["id"]}},
        headers=org.headers,
    )
    unknown_parent = await client.post(
        f"{BASE}/Groups",
        json={"schemas": [GROUP], "displayName": "新部门", DEPARTMENT: {"parentId": "NOPE"}},
        headers=org.headers,
    )
    under_itself = await client.patch(
        f"{BASE}/Groups/{finance['id']}",
        json=patch_body({"op": "replace", "path": f"{DEPARTMENT}:parentId", "value": section["id"]}),
        headers=org.headers,
    )
    with_children = await client.delete(f"{BASE}/Groups/{finance['id']}", headers=org.headers)
    root = await client.delete(f"{BASE}/Groups/{org.root_id}", headers=org.headers)

    assert_scim_error(sibling_clash, 409, "uniqueness")
    assert_scim_error(unknown_parent, 400, "invalidValue")
    assert_scim_error(under_itself, 400, "invalidValue")
    assert_scim_error(with_children, 409, "mutability")
    assert_scim_error(root, 400, "mutability")
    async with context.db.transaction() as session:
        names = (await session.execute(select(Department.name).where(Department.org_id == org.id))).scalars()
        assert sorted(names) == sorted(["测试单位", "办公室", "财务处", "综合科"])


async def test_filter_paging_and_excluded_members(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    member = await create_user(client, org)
    groups = [
        await create_group(client, org, name, members=[{"value": member["id"]}]) for name in ("甲科", "乙科")
    ]

    found = (
        await client.get(f"{BASE}/Groups", params={"filter": 'displayName eq "乙科"'}, headers=org.headers)
    ).json()
    page = (
        await client.get(f"{BASE}/Groups", params={"startIndex": "2", "count": "1"}, headers=org.headers)
    ).json()
    slim = await client.get(f"{BASE}/Groups", params={"excludedAttributes": "members"}, headers=org.headers)
    unsupported = await client.get(f"{BASE}/Groups", params={"filter": 'members eq "x"'}, headers=org.headers)

    assert [g["id"] for g in found["Resources"]] == [groups[1]["id"]]
    assert (page["totalResults"], [g["id"] for g in page["Resources"]]) == (3, [groups[0]["id"]])
    assert slim.status_code == 200 and all("members" not in g for g in slim.json()["Resources"])
    assert_scim_error(unsupported, 400, "invalidFilter")


async def test_groups_keep_to_their_organisation(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    other = await open_scim_org(context, "另一单位")
    theirs = await create_user(client, other, "外单位成员")
    their_group = await create_group(client, other, "外单位部门", members=[{"value": theirs["id"]}])
    ours = await create_group(client, org, "本单位部门")

    taking_theirs = await client.patch(
        f"{BASE}/Groups/{ours['id']}",
        json=patch_body({"op": "add", "path": "members", "value": [{"value": theirs["id"]}]}),
        headers=org.headers,
    )
    under_theirs = await client.post(
        f"{BASE}/Groups",
        json={"schemas": [GROUP], "displayName": "x", DEPARTMENT: {"parentId": their_group["id"]}},
        headers=org.headers,
    )
    with_their_member = await client.post(
        f"{BASE}/Groups",
        json={"schemas": [GROUP], "displayName": "y", "members": [{"value": theirs["id"]}]},
        headers=org.headers,
    )
    renaming_theirs = await client.patch(
        f"{BASE}/Groups/{their_group['id']}",
        json=patch_body({"op": "replace", "path": "displayName", "value": "x"}),
        headers=org.headers,
    )
    listed = (await client.get(f"{BASE}/Groups", headers=org.headers)).json()

    assert_scim_error(taking_theirs, 400, "invalidValue")
    assert_scim_error(under_theirs, 400, "invalidValue")
    assert_scim_error(with_their_member, 400, "invalidValue")  # and the department it made is gone:
    assert_scim_error(renaming_theirs, 404)
    assert {g["id"] for g in listed["Resources"]} == {org.root_id, ours["id"]}
    assert await seat_ids(context, theirs["id"]) == {their_group["id"]}
    assert (
        await client.get(f"{BASE}/Groups/{their_group['id']}", headers=other.headers)
    ).json() == their_group
