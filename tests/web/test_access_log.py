"""The access log carries a keyed pseudonym, the route template and the status: no mobile number,
no name, no token, no IP address, no query string."""

from __future__ import annotations

import logging

import httpx
import pytest

from helpers import create_member, csrf_headers, login
from zhengtong.core.context import AppContext


async def test_login_workload_leaves_no_personal_data_in_logs(
    client: httpx.AsyncClient, context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    member = await create_member(context, name="金丝雀")
    await login(client, context, member.mobile)
    token = client.cookies.get("zt_session") or ""
    await client.get("/api/v1/me")
    await client.post("/api/v1/auth/qr")
    await client.post("/api/v1/auth/sms/send", json={"mobile": "bad-" + member.mobile})
    await client.put(
        "/api/v1/me/password", json={"new_password": "Canary2026pw"}, headers=csrf_headers(client)
    )

    logged = "\n".join(record.getMessage() for record in caplog.records)
    access_lines = [r.getMessage() for r in caplog.records if r.name == "zhengtong.access"]
    assert any("/api/v1/me" in line and "actor=" in line for line in access_lines)
    for needle in (member.mobile, "金丝雀", token, "203.0.113", "Canary2026pw"):
        assert needle not in logged, needle
    pseudonym = context.keyring.pseudonym("access-log", member.account_id)
    assert any(f"actor={pseudonym}" in line for line in access_lines)
    assert member.account_id not in logged
