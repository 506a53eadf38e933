"""Bad requests get a stable code, a message in the caller's language, and change nothing."""

from __future__ import annotations

import httpx

from helpers import create_member
from zhengtong.core.context import AppContext
from zhengtong.platform.notify import read_outbox


async def test_unknown_field_is_refused(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    answer = await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile, "admin": True})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "request.invalid" and body["detail"][0]["field"] == "admin"
    assert read_outbox(context.settings.outbox_path) == []


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/auth/sms/send", content=b'{"mobile": ', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "request.malformed_json"


async def test_messages_follow_accept_language(client: httpx.AsyncClient) -> None:
    zh = await client.post("/api/v1/auth/sms/send", json={"mobile": "123"})
    en = await client.post(
        "/api/v1/auth/sms/send", json={"mobile": "123"}, headers={"Accept-Language": "en-US"}
    )
    assert zh.json()["message"] == "手机号码格式不正确"
    assert en.json()["message"] == "This is not a valid mobile number"
    assert zh.json()["code"] == en.json()["code"] == "auth.mobile_invalid"


async def test_oversized_body_is_refused_before_parsing(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    big = b'{"mobile": "' + b"1" * (context.settings.max_body_bytes + 10) + b'"}'
    answer = await client.post(
        "/api/v1/auth/sms/send", content=big, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413 and answer.json()["code"] == "request.too_large"


async def test_oversized_streamed_body_without_length(client: httpx.AsyncClient, context: AppContext) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * (context.settings.max_body_bytes // 10)

    answer = await client.post(
        "/api/v1/auth/sms/send", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413 and answer.json()["code"] == "request.too_large"


async def test_unknown_api_path_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = await client.delete("/api/v1/auth/sms/send")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    document = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/auth/sms/login" in document["paths"]
    operation_ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_security_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
