"""The discovery documents (RFC 7644 §4): what this service provider supports, its resource
types, and the schemas of its resources — only the attributes it keeps, with the mutability it
gives them (userName is immutable here: it is the person's account key)."""

from __future__ import annotations

from typing import Any

from zhengtong.scim.schemas import DEPARTMENT_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA
from zhengtong.scim.service import MAX_COUNT

CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _attribute(
    name: str,
    type_: str = "string",
    *,
    description: str = "",
    multi: bool = False,
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    sub_attributes: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description,
        "required": required,
        "caseExact": False,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if type_ == "reference":
        attribute["referenceTypes"] = ["User", "Group"]
    if sub_attributes:
        attribute["subAttributes"] = list(sub_attributes)
    return attribute


def _typed_values(name: str, description: str, types: list[str]) -> dict[str, Any]:
    return _attribute(
        name,
        "complex",
        description=description,
        multi=True,
        sub_attributes=(
            _attribute("value"),
            {**_attribute("type"), "canonicalValues": types},
            _attribute("primary", "boolean"),
        ),
    )


_USER_ATTRIBUTES = (
    _attribute(
        "userName",
        description="The mobile number in E.164 (+8613800000000): the person's account",
        required=True,
        mutability="immutable",
        uniqueness="server",
    ),
    _attribute(
        "name",
        "complex",
        sub_attributes=(
            _attribute("formatted", description="The member's name"),
            _attribute("familyName", mutability="writeOnly", returned="never"),
            _attribute("givenName", mutability="writeOnly", returned="never"),
        ),
    ),
    _attribute("displayName", description="The member's name, as name.formatted"),
    _attribute("title"),
    _attribute("active", "boolean", description="false ends the membership, as DELETE does"),
    _typed_values("emails", "The work e-mail address", ["work"]),
    _typed_values(
        "phoneNumbers", "The mobile number (read-only here) and the office phone", ["mobile", "work"]
    ),
    _attribute(
        "groups",
        "complex",
        description="The departments the member sits in; change them through Groups",
        multi=True,
        mutability="readOnly",
        sub_attributes=(
            _attribute("value", mutability="readOnly"),
            _attribute("$ref", "reference", mutability="readOnly"),
            _attribute("display", mutability="readOnly"),
            _attribute("type", mutability="readOnly"),
        ),
    ),
)

_ENTERPRISE_ATTRIBUTES = (
    _attribute("employeeNumber", description="The job number (工号), as externalId"),
    _attribute("department", description="The member's first department", mutability="readOnly"),
    _attribute(
        "manager",
        "complex",
        sub_attributes=(
            _attribute("value", description="The manager's user id"),
            _attribute("$ref", "reference", mutability="readOnly"),
            _attribute("displayName", mutability="readOnly"),
        ),
    ),
)

_GROUP_ATTRIBUTES = (
    _attribute("displayName", description="The department's name", required=True),
    _attribute(
        "members",
        "complex",
        description="The members seated in the department itself",
        multi=True,
        sub_attributes=(
            _attribute("value", mutability="immutable"),
            _attribute("$ref", "reference", mutability="immutable"),
            _attribute("display", mutability="readOnly"),
            _attribute("type", mutability="immutable"),
        ),
    ),
)

_DEPARTMENT_ATTRIBUTES = (
    _attribute("parentId", description="The parent department's group id; the root has none"),
)

_SCHEMAS = (
    (USER_SCHEMA, "User", "A member of the organisation", _USER_ATTRIBUTES),
    (ENTERPRISE_USER_SCHEMA, "EnterpriseUser", "The member's job number and manager", _ENTERPRISE_ATTRIBUTES),
    (GROUP_SCHEMA, "Group", "A department", _GROUP_ATTRIBUTES),
    (DEPARTMENT_SCHEMA, "Department", "Where the department sits in the tree", _DEPARTMENT_ATTRIBUTES),
)


def _meta(base_url: str, resource_type: str, path: str) -> dict[str, str]:
    return {"resourceType": resource_type, "location": f"{base_url}/{path}"}


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "SCIM token",
                "description": "Authorization: Bearer scim_…, issued in the admin console (security admin)",
                "primary": True,
            }
        ],
        "meta": _meta(base_url, "ServiceProviderConfig", "ServiceProviderConfig"),
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    def resource_type(name: str, endpoint: str, schema: str, extension: str) -> dict[str, Any]:
        return {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "schema": schema,
            "schemaExtensions": [{"schema": extension, "required": False}],
            "meta": _meta(base_url, "ResourceType", f"ResourceTypes/{name}"),
        }

    return [
        resource_type("User", "/Users", USER_SCHEMA, ENTERPRISE_USER_SCHEMA),
        resource_type("Group", "/Groups", GROUP_SCHEMA, DEPARTMENT_SCHEMA),
    ]


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [SCHEMA_SCHEMA],
            "id": urn,
            "name": name,
            "description": description,
            "attributes": list(attributes),
            "meta": _meta(base_url, "Schema", f"Schemas/{urn}"),
        }
        for urn, name, description, attributes in _SCHEMAS
    ]
