"""The operator's console: organisations with their usage figures (numbers, no content), only for
the operator; the client learns from /me that the account is an operator."""

from __future__ import annotations

from operator_world import MakeClient, admin_client, logged_in, operator, organisation

from helpers import csrf_headers
from zhengtong.core.context import AppContext


async def test_usage_figures_count_without_reading(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明 and 李华 chat and share a file; the other organisation is empty
    staff = await operator(context, make_client)
    tax = await organisation(context, "某市税务局", ["张明", "李华"])
    await organisation(context, "某区教育局", ["赵丽"])
    zhang = await logged_in(context, make_client, tax.members[0])
    group = (
        await zhang.post(
            "/im/conversations/group", {"name": "专项组", "member_ids": [tax.members[1].membership_id]}
        )
    ).json()
    for text in ("第一条", "第二条"):
        await zhang.post(f"/im/conversations/{group['id']}/messages", {"text": text})
    uploaded = await zhang.http.post(
        f"/api/v1/im/conversations/{group['id']}/files/upload",
        files={"file": ("纪要.txt", "会议纪要全文".encode(), "text/plain")},
        data={"kind": "file"},
        headers=csrf_headers(zhang.http),
    )
    assert uploaded.status_code == 201, uploaded.text

    # when
    answer = await staff.get("/operator/usage")

    # then
    assert answer.status_code == 200
    figures = {row["name"]: row for row in answer.json()}
    tax_row = figures["某市税务局"]
    assert {key: tax_row[key] for key in ("status", "members", "messages", "files", "storage_bytes")} == {
        "status": "active",
        "members": 2,
        "messages": 3,  # two texts and the line that announced the new group
        "files": 1,
        "storage_bytes": len("会议纪要全文".encode()),
    }
    assert tax_row["conversations"] >= 1
    assert (figures["某区教育局"]["members"], figures["某区教育局"]["messages"]) == (1, 0)
    assert "第一条" not in answer.text and "纪要" not in answer.text and "张明" not in answer.text


async def test_only_the_operator_sees_the_console(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明"])
    admin = await admin_client(context, make_client, org)
    member = await logged_in(context, make_client, org.members[0])

    assert (await staff.get("/me")).json()["is_operator"] is True
    for caller in (admin, member):
        assert (await caller.get("/me")).json()["is_operator"] is False
        for path in ("/operator/usage", "/operator/incidents", "/operator/shutdown", "/operator/letters"):
            refused = await caller.get(path)
            assert (refused.status_code, refused.json()["code"]) == (403, "org.operator_required"), path
    assert (await member.post("/operator/shutdown/cancel")).status_code == 403
