"""The organisation's archive (组织数据归档导出) during the cooling-off period before a
deregistration: only the main admin, only then; a zip of the directory, every conversation's
decrypted messages in order and the attachments' bytes, nothing of another organisation; the
download audited, signed and expiring; the file gone with the purge, with the link's expiry and
when a member leaves."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import orjson
import pytest
from erasure_world import (
    Admin,
    MakeClient,
    World,
    build_world,
    count_rows,
    request_deregistration,
    rows_of,
    run_jobs,
    upload,
    whole_database,
)

from helpers import csrf_headers
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.privacy.erasure import archive
from zhengtong.privacy.erasure.service import purge_organization

API = "/api/v1"
ARCHIVE = "/org/deregistration/archive"
HOUR = 3600
REPORT = b"\xe5\x91\xa8\xe6\x8a\xa5: the attachment's own bytes \x00\x01"


def _archive_files(context: AppContext, org_id: str) -> list[str]:
    return list(context.storage.keys(f"org/{org_id}/archives/"))


async def _archive_jobs(context: AppContext) -> list[dict[str, Any]]:
    return await rows_of(context, "jobs", kind=archive.ARCHIVE_JOB)


async def _audit_actions(context: AppContext, org_id: str) -> list[tuple[str, str | None]]:
    entries = sorted(await rows_of(context, "audit_log", scope=org_id), key=lambda entry: entry["seq"])
    return [(entry["action"], entry["actor_account_id"]) for entry in entries]


async def _finished_archive(context: AppContext, admin: Admin) -> dict[str, Any]:
    """Starts the archive, runs the job, and answers the status with the download link."""
    started = await admin.post(ARCHIVE)
    assert started.status_code == 202, started.text
    await run_jobs(context)
    status = await admin.get(ARCHIVE)
    assert status.status_code == 200, status.text
    finished: dict[str, Any] = status.json()["archive"]
    assert finished["status"] == "succeeded", finished
    return finished


async def _download(admin: Admin, url: str) -> zipfile.ZipFile:
    answer = await admin.http.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(answer.content))


def _json(zipped: zipfile.ZipFile, name: str) -> Any:
    return orjson.loads(zipped.read(name))


def _everything(zipped: zipfile.ZipFile) -> str:
    return "\n".join(zipped.read(name).decode("utf-8", "replace") for name in zipped.namelist())


# Who may, and when ------------------------------------------------------------------------------
async def test_refused_outside_the_cooling_off_period_and_to_anyone_but_the_main_admin(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    before = await whole_database(context)

    active = await admin.post(ARCHIVE)

    assert (active.status_code, active.json()["code"]) == (409, "privacy.erasure.archive_not_cooling_off")
    english = {**csrf_headers(admin.http), "Accept-Language": "en"}
    in_english = await admin.http.post(f"{API}{ARCHIVE}", headers=english)
    assert "only during the cooling-off period" in in_english.json()["message"]
    assert await whole_database(context) == before  # no job, no audit entry

    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    before = await whole_database(context)
    for member in (world.li, world.zhang):
        for answer in (await member.post(ARCHIVE), await member.get(ARCHIVE)):
            assert (answer.status_code, answer.json()["code"]) == (
                403,
                "privacy.erasure.archive_main_admin_required",
            )
    other_org = await world.second_admin.post(ARCHIVE)  # its own organisation is not deregistering
    assert other_org.json()["code"] == "privacy.erasure.archive_not_cooling_off"
    assert await whole_database(context) == before
    assert await _archive_jobs(context) == [] and _archive_files(context, org_id) == []

    # after a cancel, refused again
    assert (await admin.delete("/org/deregistration")).status_code == 200
    cancelled = await admin.post(ARCHIVE)
    assert cancelled.json()["code"] == "privacy.erasure.archive_not_cooling_off"
    assert await _archive_jobs(context) == []


async def test_a_cancel_before_the_job_runs_leaves_no_archive(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin = world.first_admin
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    assert (await admin.post(ARCHIVE)).status_code == 202
    assert (await admin.delete("/org/deregistration")).status_code == 200

    await run_jobs(context)

    [job] = await _archive_jobs(context)
    assert job["status"] == "cancelled" and job["attempts"] == 1
    assert _archive_files(context, admin.org_id) == []


# What the archive holds ---------------------------------------------------------------------------
async def _chat_with_everything(world: World) -> dict[str, Any]:
    """On top of the world's chats: an attachment, a markdown message, a recalled message and a
    member removed after writing (their words stay, from 已移除成员)."""
    group = world.group_id
    uploaded = await upload(world.zhang, group, "周报 2026.txt", REPORT)
    carried = await world.zhang.send(group, "附件：周报", kind="file", file_id=uploaded["id"])
    await world.wang.send(group, "**加粗** 的要点", kind="markdown")
    recalled = await world.zhang.send(group, "这句话要撤回")
    assert (await world.zhang.post(f"/im/messages/{recalled['id']}/recall")).status_code == 200
    removed = await world.first_admin.delete(f"/org/members/{world.li.id}")
    assert removed.status_code == 204, removed.text
    return {"file": uploaded, "carried": carried, "recalled": recalled}


async def test_the_zip_holds_the_directory_the_conversations_and_the_files(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    sent = await _chat_with_everything(world)
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201

    finished = await _finished_archive(context, admin)
    zipped = await _download(admin, finished["download_url"])

    # The directory: the members as the directory export gives them, and the departments.
    members = list(csv.DictReader(io.StringIO(zipped.read("directory/members.csv").decode("utf-8-sig"))))
    names = {row[next(iter(row))] for row in members}
    assert names == {"主管理员", "张三丰", "王五岳"}
    assert world.zhang.member.mobile in zipped.read("directory/members.csv").decode("utf-8-sig")
    departments = _json(zipped, "directory/departments.json")
    assert [department["name"] for department in departments if department["parent_id"] is None] == ["甲单位"]

    # Every conversation of the organisation, none of the other's.
    conversations = {row["id"] for row in await rows_of(context, "im_conversations", org_id=org_id)}
    in_zip = {name for name in zipped.namelist() if name.startswith("conversations/")}
    assert in_zip == {f"conversations/{conversation_id}.json" for conversation_id in conversations}
    assert f"conversations/{world.second_group_id}.json" not in in_zip
    assert "乙单位的消息" not in _everything(zipped) and "王五岳在乙单位" not in _everything(zipped)

    # The group: title, members by name, messages in order, decrypted.
    group = _json(zipped, f"conversations/{world.group_id}.json")
    assert (group["title"], group["kind"]) == ("甲项目组", "group")
    assert set(group["members"]) == {"张三丰", "王五岳"}  # 李四海 was removed
    messages = group["messages"]
    assert [message["seq"] for message in messages] == list(range(1, len(messages) + 1))
    spoken = [(m["sender"], m.get("text")) for m in messages if m["kind"] != "system"]
    assert spoken == [
        ("张三丰", "张三丰的手机是 13911112222，请李四海回电"),
        ("已移除成员", "收到，张三丰"),
        ("张三丰", "附件：周报"),
        ("王五岳", "**加粗** 的要点"),
        ("张三丰", None),  # recalled: the marker only
    ]
    [marker] = [m for m in messages if m["id"] == sent["recalled"]["id"]]
    assert marker["recalled"] is True and "text" not in marker and marker["sent_at"]
    assert "这句话要撤回" not in _everything(zipped)

    # The attachment by name, its bytes as uploaded.
    [carrier] = [m for m in messages if m["id"] == sent["carried"]["id"]]
    file_id = sent["file"]["id"]
    path = f"files/{world.group_id}/{file_id}-周报_2026.txt"
    assert carrier["attachment"] == {
        "name": "周报 2026.txt",
        "file": path,
        "content_type": "text/plain",
        "size": len(REPORT),
    }
    assert zipped.read(path) == REPORT
    assert [name for name in zipped.namelist() if name.startswith("files/")] == [path]

    # The direct conversation is named by its pair; the manifest counts what is there.
    direct = next(_json(zipped, name) for name in in_zip if _json(zipped, name)["kind"] == "direct")
    assert [m["text"] for m in direct["messages"]] == ["私聊：明天开会"]
    manifest = _json(zipped, "manifest.json")
    assert manifest["counts"]["conversations"] == len(conversations)
    assert manifest["counts"]["files"] == 1 and manifest["missing_files"] == []
    assert finished["percent"] == 100 and finished["done"] == finished["total"]


async def test_messages_are_read_a_page_at_a_time(
    context: AppContext, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(context, make_client)
    monkeypatch.setattr(archive, "MESSAGE_PAGE", 2)
    pages: list[int] = []
    read_page = archive._message_page

    async def counting(*args: Any) -> Any:
        page = await read_page(*args)
        pages.append(len(page))
        return page

    monkeypatch.setattr(archive, "_message_page", counting)
    for number in range(5):
        await world.zhang.send(world.group_id, f"第 {number} 条")
    assert (await request_deregistration(context, world.first_admin, "甲单位")).status_code == 201

    finished = await _finished_archive(context, world.first_admin)

    assert max(pages) == 2
    group = _json(
        await _download(world.first_admin, finished["download_url"]), f"conversations/{world.group_id}.json"
    )
    texts = [m["text"] for m in group["messages"] if m["kind"] != "system"]
    assert texts[-5:] == [f"第 {number} 条" for number in range(5)]


# The download -------------------------------------------------------------------------------------
async def test_the_download_is_signed_audited_and_expires(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    first = await admin.post(ARCHIVE)
    again = await admin.post(ARCHIVE)
    job_id = first.json()["archive"]["job_id"]
    assert again.json()["archive"]["job_id"] == job_id  # one archive at a time
    assert first.json()["archive"]["download_url"] is None
    await run_jobs(context)
    url = (await admin.get(ARCHIVE)).json()["archive"]["download_url"]
    assert url.startswith(f"{API}{ARCHIVE}/{job_id}/download?expires=")

    # Only the main admin of this organisation, only with the signature.
    assert (await world.li.http.get(url)).status_code == 403
    assert (await make_client().get(url)).status_code == 401
    assert (await request_deregistration(context, world.second_admin, "乙单位")).status_code == 201
    assert (await world.second_admin.http.get(url)).status_code == 404
    forged = url[: url.index("signature=") + len("signature=")] + "0" * 64
    assert (await admin.http.get(forged)).json()["code"] == "privacy.erasure.archive_link_invalid"
    expires = int(url.split("expires=")[1].split("&")[0])
    stretched = url.replace(f"expires={expires}", f"expires={expires + 86_400}")
    assert (await admin.http.get(stretched)).status_code == 403
    await _download(admin, url)

    assert ("privacy.org_archive_requested", admin.account_id) in await _audit_actions(context, org_id)
    downloads = [entry for entry in await _audit_actions(context, org_id) if entry[0].endswith("downloaded")]
    assert downloads == [("privacy.org_archive_downloaded", admin.account_id)]
    # Stored sealed with the organisation's key: the stored bytes are not a zip.
    [key] = _archive_files(context, org_id)
    assert key == archive.archive_key(org_id, job_id)
    assert not (await context.storage.get(key)).startswith(b"PK")

    # As long as a personal export's link (24 hours), then the hourly job deletes the file.
    clock.advance(24 * HOUR + 60)
    expired = await admin.http.get(url)
    assert (expired.status_code, expired.json()["code"]) == (410, "privacy.erasure.archive_expired")
    assert (await admin.get(ARCHIVE)).json()["archive"]["download_url"] is None
    await run_jobs(context)
    assert _archive_files(context, org_id) == []
    [job] = await _archive_jobs(context)
    assert job["result"]["files_removed"] is True


# Where the archive goes --------------------------------------------------------------------------
async def test_the_purge_deletes_the_archive(context: AppContext, make_client: MakeClient) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    await _finished_archive(context, admin)
    assert len(_archive_files(context, org_id)) == 1

    await purge_organization(context, org_id)

    assert _archive_files(context, org_id) == []
    assert [key for key in context.storage.keys("") if org_id in key] == []
    assert await count_rows(context, "jobs", kind=archive.ARCHIVE_JOB) == 0


async def test_a_member_leaving_withdraws_the_archive(context: AppContext, make_client: MakeClient) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    url = (await _finished_archive(context, admin))["download_url"]

    assert (await admin.delete(f"/org/members/{world.zhang.id}")).status_code == 204

    assert _archive_files(context, org_id) == []
    assert (await admin.get(ARCHIVE)).json()["archive"]["download_url"] is None
    assert (await admin.http.get(url)).json()["code"] == "privacy.erasure.archive_expired"
    # a new archive no longer lists them
    renewed = await _finished_archive(context, admin)
    members = (await _download(admin, renewed["download_url"])).read("directory/members.csv")
    assert "张三丰" not in members.decode("utf-8-sig")
