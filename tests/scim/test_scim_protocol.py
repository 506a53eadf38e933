"""SCIM protocol surface: discovery, resources that match the schemas the service publishes,
unknown endpoints, and the PATCH path engine on its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from scim_setup import (
    BASE,
    DEPARTMENT,
    ENTERPRISE,
    GROUP,
    LIST,
    USER,
    assert_scim_error,
    create_group,
    create_user,
    open_scim_org,
)

from zhengtong.core.context import AppContext
from zhengtong.scim.errors import ScimError
from zhengtong.scim.patch import apply_patch, parse_filter, parse_path
from zhengtong.scim.schemas import PatchOperation

COMMON = {"schemas", "id", "externalId", "meta"}  # RFC 7643 §3.1, on every resource
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "reference": str,
    "complex": dict,
}


def _check_value(attribute: dict[str, Any], value: Any, where: str) -> None:
    expected = TYPES[attribute["type"]]
    values = value if attribute["multiValued"] else [value]
    assert isinstance(values, list), f"{where} is multi-valued"
    for item in values:
        assert isinstance(item, expected), f"{where} is a {attribute['type']}"
        if attribute["type"] == "complex":
            _check_attributes(attribute["subAttributes"], item, where)


def _check_attributes(declared: list[dict[str, Any]], values: dict[str, Any], where: str) -> None:
    by_name = {attribute["name"]: attribute for attribute in declared}
    for name, value in values.items():
        assert name in by_name, f"{where}.{name} is not in the published schema"
        assert by_name[name]["returned"] != "never", f"{where}.{name} is never returned"
        _check_value(by_name[name], value, f"{where}.{name}")
    for attribute in declared:
        assert not attribute["required"] or attribute["name"] in values, (
            f"{where}.{attribute['name']} is required"
        )


def check_against_schemas(resource: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> None:
    """The resource holds only attributes of the schemas it names, of the declared types."""
    core = next(urn for urn in resource["schemas"] if urn in (USER, GROUP))
    _check_attributes(
        schemas[core]["attributes"],
        {k: v for k, v in resource.items() if k not in COMMON and k not in resource["schemas"]},
        core,
    )
    for urn in resource["schemas"]:
        if urn != core:
            _check_attributes(schemas[urn]["attributes"], resource[urn], urn)


async def test_discovery_documents(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)

    config = (await client.get(f"{BASE}/ServiceProviderConfig", headers=org.headers)).json()
    types = (await client.get(f"{BASE}/ResourceTypes", headers=org.headers)).json()
    schemas = (await client.get(f"{BASE}/Schemas", headers=org.headers)).json()
    one_type = await client.get(f"{BASE}/ResourceTypes/Group", headers=org.headers)
    one_schema = await client.get(f"{BASE}/Schemas/{ENTERPRISE}", headers=org.headers)

    assert config["patch"] == {"supported": True} and config["filter"]["supported"] is True
    assert (
        config["bulk"]["supported"] is False
        and config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    )
    assert types["schemas"] == [LIST] and [t["endpoint"] for t in types["Resources"]] == ["/Users", "/Groups"]
    assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, GROUP, DEPARTMENT}
    assert schemas["totalResults"] == 4
    assert one_type.json()["schemaExtensions"] == [{"schema": DEPARTMENT, "required": False}]
    assert one_schema.json()["meta"] == {
        "resourceType": "Schema",
        "location": f"http://testserver{BASE}/Schemas/{ENTERPRISE}",
    }
    assert_scim_error(await client.get(f"{BASE}/ResourceTypes/Printer", headers=org.headers), 404)
    assert_scim_error(await client.get(f"{BASE}/ServiceProviderConfig"), 401)


async def test_resources_match_the_published_schemas(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)
    user = await create_user(
        client,
        org,
        externalId="A1",
        title="科员",
        emails=[{"value": "a@example.gov.cn", "type": "work"}],
        phoneNumbers=[{"value": "010-1", "type": "work"}],
        **{ENTERPRISE: {"manager": {"value": org.admin_id}}},
    )
    group = await create_group(client, org, "办公室", members=[{"value": user["id"]}])
    published = (await client.get(f"{BASE}/Schemas", headers=org.headers)).json()["Resources"]
    schemas = {schema["id"]: schema for schema in published}

    users = (await client.get(f"{BASE}/Users", headers=org.headers)).json()["Resources"]
    groups = (await client.get(f"{BASE}/Groups", headers=org.headers)).json()["Resources"]

    assert {r["id"] for r in users} == {org.admin_id, user["id"]}
    assert {r["id"] for r in groups} == {org.root_id, group["id"]}
    for resource in users + groups:
        check_against_schemas(resource, schemas)


async def test_unknown_endpoints_answer_in_scim_shape(client: httpx.AsyncClient, context: AppContext) -> None:
    org = await open_scim_org(context)

    assert_scim_error(await client.get(f"{BASE}/Printers", headers=org.headers), 404)
    assert_scim_error(await client.post(f"{BASE}/Bulk", json={}, headers=org.headers), 404)
    plain = await client.get("/api/v1/org/nothing-here")
    assert plain.json()["code"] == "not_found"  # everything else keeps the platform's shape


def test_paths_and_filters_parse() -> None:
    assert parse_path('emails[type eq "work"].value').value_filter is not None
    path = parse_path(f"{ENTERPRISE}:manager.value")
    assert (path.schema, path.attribute, path.sub_attribute) == (ENTERPRISE, "manager", "value")
    assert parse_path(f"{USER}:UserName").attribute == "userName"  # core URN and any case
    filtered, value = parse_filter('emails[type eq "work"].value EQ "a\\"b@x.cn"')
    assert (filtered.attribute, value) == ("emails", 'a"b@x.cn')
    for bad in ('userName sw "a"', "x" * 2000 + ' eq "a"', 'title eq "a" or title eq "b"'):
        with pytest.raises(ScimError) as raised:
            parse_filter(bad)
        assert raised.value.scim_type == "invalidFilter"


def test_patch_operations_on_a_document() -> None:
    document = {
        "title": "科员",
        "name": {"formatted": "甲"},
        "emails": [{"value": "a@x.cn", "type": "work"}, {"value": "h@x.cn", "type": "home"}],
        "members": [{"value": "1"}, {"value": "2"}],
    }

    patched = apply_patch(
        document,
        [
            PatchOperation(op="replace", path="NAME.givenName", value="三"),
            PatchOperation(op="replace", path='emails[type eq "WORK"].value', value="b@x.cn"),
            PatchOperation(op="remove", path='emails[type eq "home"]'),
            PatchOperation(op="add", path="members", value=[{"value": "3"}, {"value": "1"}]),
            PatchOperation(op="remove", path='members[value eq "2"]'),
            PatchOperation(op="add", value={f"{ENTERPRISE}": {"employeeNumber": "9"}, "title": "科长"}),
            PatchOperation(op="remove", path="title"),
        ],
    )

    assert patched == {
        "name": {"formatted": "甲", "givenName": "三"},
        "emails": [{"value": "b@x.cn", "type": "work"}],
        "members": [{"value": "1"}, {"value": "3"}],
        ENTERPRISE: {"employeeNumber": "9"},
    }
    assert document["title"] == "科员"  # the original is left as it was
