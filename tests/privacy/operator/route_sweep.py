"""The machinery of the operator's route sweep: every route of an application, and a plausible
request for each (path parameters naming real objects, query parameters and a body that pass
validation, so the handler itself decides)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount, Route, WebSocketRoute

from zhengtong.app import ZhengtongAPI
from zhengtong.core.clock import utcnow


@dataclass(frozen=True)
class RouteEntry:
    kind: str  # "http", "websocket" or "mount"
    path: str  # the template: /api/v1/im/messages/{message_id}
    methods: tuple[str, ...] = ()


def every_route(app: ZhengtongAPI) -> list[RouteEntry]:
    """Every route the application answers, including those of included routers and mounts, and
    the sockets it answers ahead of routing. An unknown kind of route fails here: the sweep must
    be taught about it."""
    entries = [RouteEntry("websocket", path) for path in app.sockets]
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's included router
            for included in route.effective_route_contexts():
                if isinstance(included.original_route, APIWebSocketRoute):
                    entries.append(RouteEntry("websocket", included.starlette_route.path))
                else:
                    methods = tuple(sorted(set(included.methods or ()) - {"HEAD"}))
                    entries.append(RouteEntry("http", included.path, methods))
        elif isinstance(route, Mount):
            entries.append(RouteEntry("mount", route.path))
        elif isinstance(route, (APIRoute, Route)):
            entries.append(RouteEntry("http", route.path, tuple(sorted(set(route.methods or ()) - {"HEAD"}))))
        elif isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
            entries.append(RouteEntry("websocket", route.path))
        else:
            raise AssertionError(f"the sweep does not know routes of type {type(route).__name__}")
    return entries


PARAMETER = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def fill_path(template: str, values: Callable[[str], str]) -> str:
    return PARAMETER.sub(lambda match: values(match.group(1)), template)


@dataclass
class Examples:
    """Values for parameters and body fields, by name; everything else is made up from the schema."""

    by_name: dict[str, Any]
    openapi: dict[str, Any]
    fresh_mobile: Callable[[], str]
    missing: list[str] = field(default_factory=list)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.openapi["components"]["schemas"][name]
        return schema

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self._resolve(schema)
        if name in self.by_name:
            return self.by_name[name]
        if name in ("mobile", "admin_mobile"):
            return self.fresh_mobile()
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [o for o in schema[key] if self._resolve(o).get("type") != "null"]
                return self.value(options[0], name)
        if "allOf" in schema:
            return self.value(schema["allOf"][0], name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            return {key: self.value(properties[key], key) for key in schema.get("required", [])}
        if kind == "array":
            return [self.value(schema.get("items", {}), name)] * schema.get("minItems", 0)
        if kind == "integer" or kind == "number":
            return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
        if kind == "boolean":
            return False
        return self._string(schema)

    @staticmethod
    def _string(schema: dict[str, Any]) -> str:
        if schema.get("format") == "date-time":
            return utcnow().isoformat()
        if schema.get("format") == "date":
            return date.today().isoformat()
        if schema.get("format") == "email":
            return "operator@example.com"
        candidates = ["运营方测试", "123456", "abcdef"]
        pattern = schema.get("pattern")
        minimum = schema.get("minLength", 0)
        for candidate in candidates:
            text = candidate * max(1, -(-minimum // len(candidate)))
            if pattern is None or re.search(pattern, text):
                return text[: schema.get("maxLength", len(text))] if len(text) >= minimum else text
        return "x" * max(minimum, 1)

    def operation(self, path: str, method: str) -> dict[str, Any] | None:
        return self.openapi.get("paths", {}).get(path, {}).get(method.lower())

    def query(self, path: str, method: str) -> dict[str, Any]:
        operation = self.operation(path, method) or {}
        return {
            parameter["name"]: self.value(parameter.get("schema", {}), parameter["name"])
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query" and parameter.get("required")
        }

    def body(self, path: str, method: str) -> dict[str, Any]:
        """httpx keyword arguments for the operation's body: json, or data and files."""
        operation = self.operation(path, method) or {}
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            return {"json": self.value(content["application/json"]["schema"])}
        if "multipart/form-data" in content:
            schema = self._resolve(content["multipart/form-data"]["schema"])
            data, files = {}, {}
            for key in schema.get("required", []):
                prop = self._resolve(schema["properties"][key])
                if prop.get("format") == "binary" or "contentMediaType" in prop:
                    files[key] = ("operator.txt", b"operator upload", "text/plain")
                else:
                    data[key] = self.value(prop, key)
            for key, prop in schema.get("properties", {}).items():
                prop = self._resolve(prop)
                if key not in schema.get("required", []) and key in self.by_name:
                    data[key] = self.by_name[key]
            return {"data": data, "files": files}
        return {}
