"""Attribute paths, filters and PATCH operations (RFC 7644 §3.4.2.2 and §3.5.2) on a resource's
JSON representation.

PATCH is applied to the resource's current representation and the result is stored as if it
had been PUT, so one mapping from a document to the directory serves POST, PUT and PATCH.
Only `eq` is supported, in list filters and in the value filters of paths: it is what
provisioning clients send (`userName eq "…"`, `members[value eq "…"]`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zhengtong.scim.errors import ScimError, ScimType, invalid_value
from zhengtong.scim.schemas import (
    DEPARTMENT_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    PatchOperation,
)

EXTENSIONS = (ENTERPRISE_USER_SCHEMA, DEPARTMENT_SCHEMA)
_SCHEMAS = (USER_SCHEMA, GROUP_SCHEMA, *EXTENSIONS)

# Attribute names are case-insensitive (RFC 7643 §2.1); representations use these spellings.
_CANONICAL = {
    name.lower(): name
    for name in (
        "active",
        "department",
        "display",
        "displayName",
        "emails",
        "employeeNumber",
        "externalId",
        "familyName",
        "formatted",
        "givenName",
        "groups",
        "id",
        "manager",
        "members",
        "name",
        "parentId",
        "phoneNumbers",
        "primary",
        "title",
        "type",
        "userName",
        "value",
    )
}

_NAME = r"[A-Za-z$][\w$-]*"
_LITERAL = r'"(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?'
_PATH = re.compile(
    rf"^(?P<attribute>{_NAME})"
    rf"(?:\[\s*(?P<filter_attribute>{_NAME})\s+eq\s+(?P<filter_value>{_LITERAL})\s*\])?"
    rf"(?:\.(?P<sub_attribute>{_NAME}))?$",
    re.IGNORECASE,
)
MAX_FILTER_LENGTH = 1000
_COMPARISON = re.compile(rf"^\s*(?P<path>.+?)\s+eq\s+(?P<value>{_LITERAL})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ValueFilter:
    attribute: str
    value: Any


@dataclass(frozen=True)
class AttributePath:
    schema: str | None  # an extension's URN; None for the core schema
    attribute: str
    value_filter: ValueFilter | None = None
    sub_attribute: str | None = None


def canonical(name: str) -> str:
    return _CANONICAL.get(name.lower(), name)


def _literal(text: str) -> Any:
    return json.loads(text if text.startswith('"') else text.lower())


def _split_schema(text: str) -> tuple[str | None, str]:
    """(extension URN or None, the rest): core attributes may be written with their schema's URN."""
    for urn in _SCHEMAS:
        if text.lower().startswith(urn.lower() + ":"):
            return (urn if urn in EXTENSIONS else None), text[len(urn) + 1 :]
    return None, text


def parse_path(text: str) -> AttributePath:
    """`title`, `name.formatted`, `emails[type eq "work"].value`, `urn:…:User:employeeNumber` …"""
    schema, rest = _split_schema(text.strip())
    match = _PATH.match(rest)
    if match is None:
        raise ScimError(400, f"Unsupported attribute path: {text}", ScimType.INVALID_PATH)
    value_filter = None
    if match["filter_attribute"]:
        value_filter = ValueFilter(canonical(match["filter_attribute"]), _literal(match["filter_value"]))
    sub_attribute = match["sub_attribute"]
    return AttributePath(
        schema,
        canonical(match["attribute"]),
        value_filter,
        canonical(sub_attribute) if sub_attribute else None,
    )


def parse_filter(text: str) -> tuple[AttributePath, Any]:
    """A list filter of the one form supported: `<attribute path> eq <value>`."""
    match = _COMPARISON.match(text) if len(text) <= MAX_FILTER_LENGTH else None
    if match is not None:
        try:
            return parse_path(match["path"]), _literal(match["value"])
        except ScimError:
            pass
    raise ScimError(
        400, 'Only filters of the form  attribute eq "value"  are supported', ScimType.INVALID_FILTER
    )


def same_value(actual: Any, expected: Any) -> bool:
    """Equality as SCIM filters mean it here: strings compare without regard to case."""
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.lower() == expected.lower()
    return bool(actual == expected)


def apply_patch(document: dict[str, Any], operations: Sequence[PatchOperation]) -> dict[str, Any]:
    """A copy of `document` with the operations applied in order."""
    patched = copy.deepcopy(document)
    for operation in operations:
        if operation.path:
            _apply(patched, operation.op, parse_path(operation.path), operation.value)
        elif operation.op == "remove":
            raise ScimError(400, "remove needs a path", ScimType.NO_TARGET)
        else:
            _apply_each(patched, operation.op, operation.value)
    return patched


def _apply_each(document: dict[str, Any], op: str, value: Any) -> None:
    """add or replace without a path: `value` is an object of attributes, or of an extension's."""
    if not isinstance(value, dict):
        raise invalid_value("Without a path, the value must be an object of attributes")
    for key, item in value.items():
        extension = next((urn for urn in EXTENSIONS if urn.lower() == key.lower()), None)
        if extension is not None and isinstance(item, dict):
            for name, sub_item in item.items():
                _apply(document, op, parse_path(f"{extension}:{name}"), sub_item)
        else:
            _apply(document, op, parse_path(key), item)


def _apply(document: dict[str, Any], op: str, path: AttributePath, value: Any) -> None:
    container = document
    if path.schema is not None:
        if path.schema not in document and op == "remove":
            return
        container = document.setdefault(path.schema, {})
    if path.value_filter is not None:
        _apply_filtered(container, op, path, path.value_filter, value)
    elif path.sub_attribute is not None:
        parent = container.get(path.attribute)
        if parent is None and op != "remove":
            parent = container[path.attribute] = {}
        if parent is None:
            return
        if not isinstance(parent, dict):
            raise ScimError(400, f"{path.attribute} has no sub-attributes", ScimType.INVALID_PATH)
        _apply_attribute(parent, op, path.sub_attribute, value)
    else:
        _apply_attribute(container, op, path.attribute, value)


def _apply_attribute(container: dict[str, Any], op: str, key: str, value: Any) -> None:
    current = container.get(key)
    if op == "remove":
        if isinstance(current, list) and isinstance(value, list):
            # Entra ID removes group members by listing them in `value` instead of filtering the path.
            dropped = [item.get("value") for item in value if isinstance(item, dict)]
            container[key] = [item for item in current if not _has_value_in(item, dropped)]
        else:
            container.pop(key, None)
    elif op == "add" and isinstance(current, list):
        added = value if isinstance(value, list) else [value]
        container[key] = current + [item for item in added if item not in current]
    elif isinstance(current, dict) and isinstance(value, dict):
        current.update(value)  # a complex attribute takes the sub-attributes given and keeps the rest
    else:
        container[key] = value


def _has_value_in(item: Any, values: list[Any]) -> bool:
    return isinstance(item, dict) and any(same_value(item.get("value"), value) for value in values)


def _apply_filtered(
    container: dict[str, Any], op: str, path: AttributePath, value_filter: ValueFilter, value: Any
) -> None:
    items = container.get(path.attribute) or []
    if not isinstance(items, list):
        raise ScimError(400, f"{path.attribute} is not multi-valued", ScimType.INVALID_PATH)
    matches = [
        item
        for item in items
        if isinstance(item, dict) and same_value(item.get(value_filter.attribute), value_filter.value)
    ]
    if op == "remove":
        if path.sub_attribute is None:
            container[path.attribute] = [item for item in items if not any(item is m for m in matches)]
        else:
            for match in matches:
                match.pop(path.sub_attribute, None)
        return
    if not matches:
        # Setting `emails[type eq "work"].value` when there is no work address yet creates it.
        matches = [{value_filter.attribute: value_filter.value}]
        items.append(matches[0])
    container[path.attribute] = items
    for match in matches:
        if path.sub_attribute is not None:
            match[path.sub_attribute] = value
        elif isinstance(value, dict):
            match.update(value)
        else:
            raise invalid_value(f"The value for {path.attribute}[…] must be an object")
