"""SCIM Users: provisioning members of the token's organisation — the mapping, the lifecycle,
filters and paging, conflicts, bad bodies, and isolation from other organisations."""

from __future__ import annotations

import httpx
from scim_setup import (
    BASE,
    ENTERPRISE,
    LIST,
    assert_resource,
    assert_scim_error,
    audit_entries,
    create_user,
    e164,
    membership,
    open_scim_org,
    patch_body,
    seat_ids,
    user_body,
)

from helpers import login_admin, next_mobile
from zhengtong.core.context import AppContext


async def test_provisioning_lifecycle(client: httpx.AsyncClient, context: AppContext, make_client) -> None:  # type: ignore[no-untyped-def]
    org = await open_scim_org(context)
    mobile = next_mobile()

    created = await client.post(f"{BASE}/Users", json=user_body(mobile, "张三丰"), headers=org.headers)

    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/scim+json"
    user = created.json()
    assert_resource(user, "User")
    assert created.headers["location"] == user["meta"]["location"]
    assert (user["userName"], user["displayName"], user["active"]) == (e164(mobile), "张三丰", True)
    assert user["groups"] == [
        {
            "value": org.root_id,
            "display": "测试单位",
            "$ref": f"http://testserver/scim/v2/Groups/{org.root_id}",
            "type": "direct",
        }
    ]
    admin = make_client()
    await login_admin(admin, context, org.admin_mobile)
    found = (await admin.get("/api/v1/directory/search", params={"q": "zsf"})).json()["members"]
    assert [member["id"] for member in found] == [user["id"]]
    card = (await admin.get(f"/api/v1/directory/members/{user['id']}")).json()
    assert card["status"] == "not_activated"
    assert (await client.get(f"{BASE}/Users/{user['id']}", headers=org.headers)).json() == user

    titled = await client.patch(
        f"{BASE}/Users/{user['id']}",
        json=patch_body({"op": "replace", "path": "title", "value": "科员"}),
        headers=org.headers,
    )

    assert titled.status_code == 200 and titled.json()["title"] == "科员"
    assert (await admin.get(f"/api/v1/directory/members/{user['id']}")).json()["title"] == "科员"

    deactivated = await client.patch(
        f"{BASE}/Users/{user['id']}",
        json=patch_body({"op": "Replace", "value": {"active": False}}),  # as Entra ID sends it
        headers=org.headers,
    )

    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert_scim_error(await client.get(f"{BASE}/Users/{user['id']}", headers=org.headers), 404)
    assert await membership(context, user["id"]) is None
    assert (await admin.get("/api/v1/directory/search", params={"q": "zsf"})).json()["members"] == []

    again = await client.post(f"{BASE}/Users", json=user_body(mobile, "张三丰"), headers=org.headers)

    assert again.status_code == 201 and again.json()["id"] != user["id"]
    scim_entries = [e for e in await audit_entries(context, org.id) if e.action.startswith("scim.user")]
    assert [e.action for e in scim_entries] == [
        "scim.user_created",
        "scim.user_patched",
        "scim.user_deactivated",
        "scim.user_created",
    ]
    token_id = scim_entries[0].detail["token_id"]
    assert all(e.actor_account_id is None and e.detail == {"token_id": token_id} for e in scim_entries)
    assert "org.member_removed" in [e.action for e in await audit_entries(context, org.id)]


async def test_attribute_mapping_and_replace(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    body = user_body(
        next_mobile(),
        "李四",
        title="处长",
        externalId="GH-0042",
        emails=[{"value": "lisi@example.gov.cn", "type": "work", "primary": True}],
        phoneNumbers=[{"value": "010-12345678", "type": "work"}],
        **{ENTERPRISE: {"manager": {"value": org.admin_id}}},
    )
    body["schemas"].append(ENTERPRISE)

    user = (await client.post(f"{BASE}/Users", json=body, headers=org.headers)).json()

    assert user["externalId"] == "GH-0042" and user["title"] == "处长"
    assert user["emails"] == [{"value": "lisi@example.gov.cn", "type": "work", "primary": True}]
    assert {"value": "010-12345678", "type": "work"} in user["phoneNumbers"]
    assert user[ENTERPRISE]["employeeNumber"] == "GH-0042"
    assert user[ENTERPRISE]["manager"]["value"] == org.admin_id
    assert user[ENTERPRISE]["manager"]["displayName"] == "王主管"
    stored = await membership(context, user["id"])
    assert stored is not None
    assert (stored.job_number, stored.org_email, stored.office_phone, stored.manager_id) == (
        "GH-0042",
        "lisi@example.gov.cn",
        "010-12345678",
        org.admin_id,
    )

    replaced = await client.put(
        f"{BASE}/Users/{user['id']}",
        json=user_body(user["userName"], "李四", **{ENTERPRISE: {"employeeNumber": "GH-0043"}}),
        headers=org.headers,
    )

    assert replaced.status_code == 200, replaced.text
    stored = await membership(context, user["id"])
    assert stored is not None
    assert (stored.job_number, stored.title, stored.org_email, stored.office_phone, stored.manager_id) == (
        "GH-0043",
        "",
        "",
        "",
        None,
    )
    assert "title" not in replaced.json() and "manager" not in replaced.json()[ENTERPRISE]


async def test_patch_paths_that_clients_send(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    user = await create_user(client, org, "王五")
    url = f"{BASE}/Users/{user['id']}"

    answer = await client.patch(
        url,
        json=patch_body(
            {"op": "add", "path": 'emails[type eq "work"].value', "value": "wangwu@example.gov.cn"},
            {"op": "replace", "path": "displayName", "value": "王五一"},
            {"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "E-7"},
            {"op": "replace", "value": {f"{ENTERPRISE}:manager": org.admin_id, "title": "主任"}},
            {"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "021-1234"},
        ),
        headers=org.headers,
    )

    assert answer.status_code == 200, answer.text
    stored = await membership(context, user["id"])
    assert stored is not None
    assert (
        stored.org_email,
        stored.name,
        stored.job_number,
        stored.manager_id,
        stored.title,
        stored.office_phone,
    ) == (
        "wangwu@example.gov.cn",
        "王五一",
        "E-7",
        org.admin_id,
        "主任",
        "021-1234",
    )

    removed = await client.patch(
        url,
        json=patch_body(
            {"op": "remove", "path": f"{ENTERPRISE}:manager"},
            {"op": "remove", "path": 'emails[type eq "work"]'},
            {"op": "remove", "path": "externalId"},
            {"op": "remove", "path": f"{ENTERPRISE}:employeeNumber"},
        ),
        headers=org.headers,
    )

    assert removed.status_code == 200, removed.text
    stored = await membership(context, user["id"])
    assert stored is not None
    assert (stored.manager_id, stored.org_email, stored.job_number) == (None, "", None)


async def test_the_same_user_name_or_job_number_twice_is_a_uniqueness_conflict(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    mobile = next_mobile()
    first = await client.post(f"{BASE}/Users", json=user_body(mobile, externalId="7"), headers=org.headers)

    same_mobile = await client.post(f"{BASE}/Users", json=user_body(mobile, "另一个"), headers=org.headers)
    same_job = await client.post(
        f"{BASE}/Users", json=user_body(next_mobile(), externalId="7"), headers=org.headers
    )

    assert first.status_code == 201
    assert_scim_error(same_mobile, 409, "uniqueness")
    assert_scim_error(same_job, 409, "uniqueness")
    listed = (await client.get(f"{BASE}/Users", headers=org.headers)).json()
    assert listed["totalResults"] == 2  # the admin and the first user


async def test_user_name_cannot_change(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    user = await create_user(client, org)

    answer = await client.put(
        f"{BASE}/Users/{user['id']}", json=user_body(next_mobile()), headers=org.headers
    )

    assert_scim_error(answer, 400, "mutability")
    assert (await client.get(f"{BASE}/Users/{user['id']}", headers=org.headers)).json()["userName"] == user[
        "userName"
    ]


async def test_mobile_number_from_phone_numbers_when_user_name_is_not_one(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    mobile = next_mobile()
    body = user_body(mobile, phoneNumbers=[{"value": mobile, "type": "mobile"}])
    body["userName"] = "zhangsan@example.gov.cn"

    as_plain_json = {**org.headers, "Content-Type": "application/json"}

    answer = await client.post(f"{BASE}/Users", json=body, headers=as_plain_json)

    assert answer.status_code == 201, answer.text
    assert answer.json()["userName"] == e164(mobile)


async def test_filters_and_paging(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    users = [
        await create_user(
            client,
            org,
            f"成员{n}",
            externalId=f"J{n}",
            emails=[{"value": f"m{n}@example.gov.cn", "type": "work"}],
        )
        for n in range(5)
    ]

    async def search(**params: str) -> dict:  # type: ignore[type-arg]
        answer = await client.get(f"{BASE}/Users", params=params, headers=org.headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["schemas"] == [LIST]
        return answer.json()  # type: ignore[no-any-return]

    by_name = await search(filter=f'userName eq "{users[2]["userName"]}"')
    assert (by_name["totalResults"], by_name["Resources"][0]["id"]) == (1, users[2]["id"])
    assert (await search(filter='externalId eq "J3"'))["Resources"][0]["id"] == users[3]["id"]
    assert (await search(filter=f'{ENTERPRISE}:employeeNumber eq "J4"'))["Resources"][0]["id"] == users[4][
        "id"
    ]
    by_mail = await search(filter='emails[type eq "work"].value eq "M1@example.gov.cn"')
    assert [r["id"] for r in by_mail["Resources"]] == [users[1]["id"]]
    assert (await search(filter='userName eq "+8613000000000"'))["totalResults"] == 0
    assert (await search(filter='userName eq "not a number"'))["totalResults"] == 0

    page = await search(startIndex="3", count="2")

    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 3, 2)
    assert [r["id"] for r in page["Resources"]] == [users[1]["id"], users[2]["id"]]  # the admin is first
    assert (await search(count="0"))["Resources"] == []
    assert [r["id"] for r in (await search(startIndex="0", count="1"))["Resources"]] == [org.admin_id]
    assert "groups" not in (await search(excludedAttributes="groups,id"))["Resources"][0]
    for unsupported in ('title co "x"', 'userName eq "a" and active eq true', "userName pr"):
        answer = await client.get(f"{BASE}/Users", params={"filter": unsupported}, headers=org.headers)
        assert_scim_error(answer, 400, "invalidFilter")
    assert_scim_error(await client.get(f"{BASE}/Users?count=ten", headers=org.headers), 400, "invalidValue")


async def test_malformed_bodies_change_nothing(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    user = await create_user(client, org)
    entries_before = len(await audit_entries(context, org.id))

    async def post(body: object) -> httpx.Response:
        return await client.post(f"{BASE}/Users", json=body, headers=org.headers)

    async def patch(*operations: dict[str, object]) -> httpx.Response:
        return await client.patch(
            f"{BASE}/Users/{user['id']}", json=patch_body(*operations), headers=org.headers
        )

    cases = [
        (await client.post(f"{BASE}/Users", content=b'{"schemas": [', headers=org.headers), "invalidSyntax"),
        (await post(["not", "an", "object"]), "invalidSyntax"),
        (await post({"userName": e164(next_mobile())}), "invalidSyntax"),  # no schemas
        (await post({**user_body(next_mobile()), "schemas": ["urn:x"]}), "invalidSyntax"),
        (await post({**user_body(next_mobile()), "userName": "12345"}), "invalidValue"),
        (await post(user_body(next_mobile(), "  ")), "invalidValue"),
        (await post(user_body(next_mobile(), emails=[{"value": "no-at-sign"}])), "invalidValue"),
        (await post(user_body(next_mobile(), active=False)), "invalidValue"),
        (await post(user_body(next_mobile(), **{ENTERPRISE: {"manager": "nobody"}})), "invalidValue"),
        (await patch(), "invalidValue"),  # no operations
        (await patch({"op": "move", "path": "title"}), "invalidValue"),
        (await patch({"op": "add", "path": "title[", "value": "x"}), "invalidPath"),
        (await patch({"op": "remove"}), "noTarget"),
        (await patch({"op": "add", "value": "x"}), "invalidValue"),
        (await patch({"op": "replace", "path": "title", "value": 7}), "invalidValue"),
    ]

    for answer, scim_type in cases:
        assert_scim_error(answer, 400, scim_type)
    assert (await client.get(f"{BASE}/Users", headers=org.headers)).json()["totalResults"] == 2
    assert len(await audit_entries(context, org.id)) == entries_before


async def test_bad_tokens_get_a_scim_401(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)

    for headers in ({}, {"Authorization": "Bearer scim_wrong"}, {"Authorization": org.token}):
        answer = await client.get(f"{BASE}/Users", headers=headers)
        assert_scim_error(answer, 401)
        assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_token_never_sees_or_changes_another_organisation(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    other = await open_scim_org(context, "另一单位")
    theirs = await create_user(client, other, "外单位成员", title="科长")
    url = f"{BASE}/Users/{theirs['id']}"
    entries_before = len(await audit_entries(context, other.id))

    assert_scim_error(await client.get(url, headers=org.headers), 404)
    assert_scim_error(
        await client.patch(
            url, json=patch_body({"op": "replace", "path": "title", "value": "x"}), headers=org.headers
        ),
        404,
    )
    assert_scim_error(
        await client.put(url, json=user_body(theirs["userName"], "x"), headers=org.headers), 404
    )
    assert_scim_error(await client.delete(url, headers=org.headers), 404)
    assert_scim_error(await client.get(f"{BASE}/Groups/{other.root_id}", headers=org.headers), 404)
    listed = await client.get(
        f"{BASE}/Users", params={"filter": f'userName eq "{theirs["userName"]}"'}, headers=org.headers
    )
    assert listed.json()["totalResults"] == 0
    assert {
        r["id"] for r in (await client.get(f"{BASE}/Users", headers=org.headers)).json()["Resources"]
    } == {org.admin_id}
    as_manager = user_body(next_mobile(), **{ENTERPRISE: {"manager": {"value": theirs["id"]}}})
    assert_scim_error(
        await client.post(f"{BASE}/Users", json=as_manager, headers=org.headers), 400, "invalidValue"
    )

    assert (await client.get(url, headers=other.headers)).json() == theirs
    assert await seat_ids(context, theirs["id"]) == {other.root_id}
    assert len(await audit_entries(context, other.id)) == entries_before


async def test_the_last_main_admin_is_not_deprovisioned(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)

    answer = await client.delete(f"{BASE}/Users/{org.admin_id}", headers=org.headers)

    assert_scim_error(answer, 409, "mutability")
    assert await membership(context, org.admin_id) is not None
