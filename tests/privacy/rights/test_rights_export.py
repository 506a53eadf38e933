"""Export of "my data": complete by construction (every table and column the schema links to the
person), decrypted where the platform can, nothing of other people, progress through the jobs
API, a signed link for the owner alone that expires, and a scheduled job that deletes the file."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rights_world import IP, MakeClient, Org, Person, add_person, export_zip, open_org, run_jobs
from sqlalchemy import JSON, Boolean, Date, Integer, LargeBinary, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import UtcDateTime
from zhengtong.core.ids import new_id
from zhengtong.core.inventory import DataClass, declaration_of
from zhengtong.identity import service as identity
from zhengtong.models import metadata
from zhengtong.org import service as org_service
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.jobs import Job
from zhengtong.privacy.consent import minors
from zhengtong.privacy.rights import exporting
from zhengtong.privacy.rights.holdings import PersonTable, Treatment, person_tables, treatment_of
from zhengtong.privacy.subjects import SUBJECT_TABLES, SubjectKind

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)
MY_WORDS = "这是我写下的话"
OTHERS_WORDS = "这是旁人写的话"
OTHER_NAME = "旁观的同事"
FILE_BYTES = "我的工作笔记：第一季度总结".encode()

# Tables that the steps of `seed_person_everywhere` do not reach through their domain's API get a
# row of their own (their values are tested by their domain; here only that the export has them).
# A table that points at people and is in neither is a failure: add it here or seed it for real.
SYNTHETIC_ROWS = frozenset(
    {
        "admin_grants",
        "apps",
        "consent_records",
        "contact_match_hashes",
        "data_notices",
        "ding_files",
        "ding_recipients",
        "dings",
        "disclosures",
        "guardian_consents",
        "im_join_requests",
        "invites",
        "join_requests",
        "notices",
        "notification_preferences",
        "policy_acknowledgements",
        "policy_versions",
        "privacy_deregistrations",
        "push_subscriptions",
        "qr_logins",
        "robots",
        "scim_tokens",
        "security_incident_people",
        "security_incidents",
        "service_shutdowns",
        "work_notice_recipients",
        "work_notices",
    }
)


@dataclass
class World:
    org: Org
    me: Person
    other: Person
    upload_name: str


# Seeding --------------------------------------------------------------------------------------
def _sample(table: Table, column: Any) -> Any:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return utcnow()
    if isinstance(kind, Date):
        return date(1990, 1, 1)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, LargeBinary):
        return os.urandom(32)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String | Text):
        value = f"{table.name[:3]}{new_id()[-8:]}"
        length = getattr(kind, "length", None)
        return value[:length] if length else value
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


async def _any_row_id(session: AsyncSession, target: Table, world: World) -> Any:
    """An existing row of `target` (of the world's organisation when it has one), else a new one."""
    query = select(target.c.id)
    if "org_id" in target.c:
        query = query.where(target.c.org_id == world.org.id)
    found = (await session.execute(query.limit(1))).scalar()
    return found if found is not None else await _insert_synthetic(session, target, world, {})


async def _insert_synthetic(session: AsyncSession, table: Table, world: World, values: dict[str, Any]) -> Any:
    """A row with `values`, every other required column filled: foreign keys to the world's
    organisation, person or an existing row, the rest with sample values."""
    row = dict(values)
    for column in table.columns:
        if column.name in row:
            continue
        foreign_key = next(iter(column.foreign_keys), None)
        if foreign_key is not None:
            target = foreign_key.column.table
            if target.name == "organizations":
                row[column.name] = world.org.id
            elif target.name in SUBJECT_TABLES:
                row[column.name] = (
                    world.me.account_id
                    if SUBJECT_TABLES[target.name] is SubjectKind.ACCOUNT
                    else world.me.membership_id
                )
            elif not column.nullable:
                row[column.name] = await _any_row_id(session, target, world)
            continue
        if column.default is not None or column.server_default is not None or column.nullable:
            continue
        row[column.name] = _sample(table, column)
    if "id" in table.c and "id" not in row:
        row["id"] = new_id()
    await session.execute(table.insert().values(row))
    return row.get("id")


def _links_to_me(person_table: PersonTable, world: World, mobile_index: bytes) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, kind in (*person_table.owning, *person_table.mentioning):
        values[column.name] = world.me.account_id if kind is SubjectKind.ACCOUNT else world.me.membership_id
    if person_table.mobile_index is not None:
        values[person_table.mobile_index.name] = mobile_index
    return values


async def seed_person_everywhere(context: AppContext, make_client: MakeClient) -> World:
    """A person with data in every table that points at people: through the domains' APIs and
    services where this test reaches them, a synthetic row for the tables in SYNTHETIC_ROWS."""
    org = await open_org(context, make_client, "导出单位")
    async with context.db.transaction() as session:
        await org_service.define_custom_field(
            session, context, org.scope, key="desk", label="工位", actor_id=org.admin.account_id, ip=IP
        )
        role = await org_service.create_role(
            session,
            context,
            org.scope,
            name="值班员",
            group_name="默认",
            actor_id=org.admin.account_id,
            ip=IP,
        )
    profile = org_service.MemberProfile(
        name="导出本人",
        job_number="E-2026-7",
        title="主任科员",
        org_email="me@export.example.gov.cn",
        office_phone="010-66668888",
        work_place="三号楼 301",
        hired_date=date(2015, 7, 1),
        custom_fields={"desk": "A-12"},
    )
    me = await add_person(context, make_client, org, "导出本人", profile=profile)
    other = await add_person(context, make_client, org, OTHER_NAME)
    world = World(org, me, other, "笔记 (第一季度).txt")
    async with context.db.transaction() as session:
        membership = await session.get(Membership, me.membership_id)
        assert membership is not None
        await org_service.set_member_roles(session, org.scope, membership, [role.id])
        managed = await session.get(Membership, other.membership_id)
        assert managed is not None
        managed.manager_id = me.membership_id  # I manage the other person: their row is not mine
        await minors.record_birth_date(
            session,
            context,
            org.scope,
            membership_id=me.membership_id,
            birth_date=date(1990, 5, 17),
            actor_id=org.admin.account_id,
            ip=IP,
        )

    # Chat: a group I own with an announcement, my words, a file I uploaded, a message I recalled.
    group = await me.post(
        "/im/conversations/group", {"name": "导出测试群", "member_ids": [other.membership_id]}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    assert (
        await me.put(f"/im/conversations/{group_id}/announcement", {"text": "本周五开会"})
    ).status_code == 200
    assert (await me.post(f"/im/conversations/{group_id}/messages", {"text": MY_WORDS})).status_code == 200
    assert (
        await other.post(f"/im/conversations/{group_id}/messages", {"text": OTHERS_WORDS})
    ).status_code == 200
    uploaded = await me.http.post(
        f"/api/v1/im/conversations/{group_id}/files/upload",
        files={"file": (world.upload_name, FILE_BYTES)},
        data={"kind": "file"},
        headers={"X-CSRF-Token": me.http.cookies.get("zt_csrf") or ""},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent_file = await me.post(
        f"/im/conversations/{group_id}/messages", {"kind": "file", "file_id": uploaded.json()["id"]}
    )
    assert sent_file.status_code == 200, sent_file.text
    regretted = (await me.post(f"/im/conversations/{group_id}/messages", {"text": "发错了"})).json()
    assert (await me.post(f"/im/messages/{regretted['id']}/recall")).status_code == 200
    assert (await me.patch("/im/preferences", {"quiet_hours_enabled": True})).status_code == 200

    # Rights: a request the organisation answered, a disclosure about me.
    request = (await me.post("/privacy/requests", {"kind": "correction", "details": "工位应为 A-13"})).json()
    await org.admin.post(f"/privacy/admin/requests/{request['id']}/replies", {"text": "收到"})
    recorded = await org.admin.post(
        "/privacy/admin/disclosures",
        {
            "recipient_kind": "court",
            "recipient": "某区人民法院",
            "data_categories": ["identity"],
            "legal_basis": "law",
            "membership_ids": [me.membership_id],
        },
    )
    assert recorded.status_code == 201, recorded.text

    mobile_index = identity.mobile_index(context.keyring, identity.normalise_mobile(me.mobile))
    async with context.db.transaction() as session:
        for person_table in person_tables(metadata):
            if person_table.name in SYNTHETIC_ROWS:
                await _insert_synthetic(
                    session, person_table.table, world, _links_to_me(person_table, world, mobile_index)
                )
    return world


# What the export must hold --------------------------------------------------------------------
def _expected_columns(person_table: PersonTable) -> set[str]:
    """Columns whose values the export gives: all the readable ones of the person's own rows; of
    rows that only name the person, the ids and their business content."""
    given = {Treatment.CLEAR, Treatment.DECRYPTED, Treatment.NOT_PERSONAL}
    owns_rows = bool(
        person_table.owning or person_table.identified_by_id or person_table.mobile_index is not None
    )
    expected = set()
    for column in person_table.table.columns:
        if treatment_of(person_table.table, column) not in given:
            continue
        declared = declaration_of(column)
        if owns_rows or declared is None or declared.data_class in (DataClass.NONE, DataClass.BUSINESS):
            expected.add(column.name)
    return expected


def _read_json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


def test_every_encrypted_personal_column_is_opened_or_declared_one_way() -> None:
    """A new encrypted column in a table about people fails here until the export can open it
    (holdings.DECRYPTORS), or it is a keyed hash (…_index, …_hash) or a withheld credential."""
    unreadable = [
        f"{person_table.name}.{column.name}"
        for person_table in person_tables(metadata)
        for column in person_table.table.columns
        if treatment_of(person_table.table, column) is Treatment.UNREADABLE
    ]

    assert unreadable == []


async def test_the_export_holds_every_table_and_column_about_the_person(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    world = await seed_person_everywhere(context, make_client)
    tables = person_tables(metadata)

    _, archive = await export_zip(world.me, context)

    manifest = _read_json(archive, "manifest.json")
    listed = {entry["table"]: entry for entry in manifest["tables"]}
    assert set(listed) == {person_table.name for person_table in tables}
    empty = sorted(name for name, entry in listed.items() if entry["rows"] == 0)
    assert empty == [], (
        "tables that point at people but hold nothing about the seeded person: seed them in "
        f"seed_person_everywhere or list them in SYNTHETIC_ROWS: {empty}"
    )
    for person_table in tables:
        entry = listed[person_table.name]
        rows = _read_json(archive, entry["file"])
        assert len(rows) == entry["rows"]
        present = set().union(*(row.keys() for row in rows))
        missing = _expected_columns(person_table) - present
        assert not missing, f"{person_table.name}: columns missing from the export: {sorted(missing)}"
        described = {column["column"]: column["exported_as"] for column in entry["columns"]}
        assert set(described) == {column.name for column in person_table.table.columns}
    # Credentials and keyed hashes never leave, and the manifest says why.
    accounts = listed["accounts"]["columns"]
    exported_as = {column["column"]: column["exported_as"] for column in accounts}
    assert exported_as["password_hash"] == "withheld"
    assert exported_as["mobile_index"] == "one_way"
    assert "totp_secret_encrypted" not in _read_json(archive, "data/accounts.json")[0]
    assert {"README.zh.txt", "README.en.txt"} <= set(archive.namelist())
    assert manifest["account_id"] == world.me.account_id


async def test_the_export_opens_what_the_platform_encrypted_and_holds_nothing_of_others(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    world = await seed_person_everywhere(context, make_client)

    _, archive = await export_zip(world.me, context)

    [account] = _read_json(archive, "data/accounts.json")
    assert account["mobile_encrypted"] == identity.normalise_mobile(world.me.mobile)
    [membership] = _read_json(archive, "data/memberships.json")
    assert membership["name"] == "导出本人"
    assert membership["office_phone"] == "010-66668888"
    assert membership["custom_fields"] == {"desk": "A-12"}
    [minor] = _read_json(archive, "data/minor_records.json")
    assert minor["birth_date_encrypted"] == "1990-05-17"
    messages = _read_json(archive, "data/im_messages.json")
    texts = [(message.get("content_sealed") or {}).get("text") for message in messages]
    assert MY_WORDS in texts
    recalled = [message for message in messages if message["recalled_at"]]
    assert len(recalled) == 1 and recalled[0]["content_sealed"] is None  # erased by the recall
    manifest = _read_json(archive, "manifest.json")
    message_entry = next(entry for entry in manifest["tables"] if entry["table"] == "im_messages")
    assert message_entry["organisation_record"] is True
    assert "组织的业务记录" in message_entry["note_zh"]
    [conversation] = _read_json(archive, "data/im_conversations.json")
    assert conversation["announcement_sealed"] == "本周五开会"
    [chat_file] = _read_json(archive, "data/im_files.json")
    assert chat_file["name_sealed"] == world.upload_name
    [file_entry] = manifest["files"]
    assert file_entry["name"] == world.upload_name
    assert archive.read(file_entry["file"]) == FILE_BYTES
    # Nothing of the other person: neither their words nor their name, anywhere in the archive.
    for name in archive.namelist():
        content = archive.read(name).decode("utf-8", "replace")
        assert OTHERS_WORDS not in content, name
        assert OTHER_NAME not in content, name
    # The other person's own export does not hold my words either.
    _, theirs = await export_zip(world.other, context)
    assert all(MY_WORDS not in theirs.read(name).decode("utf-8", "replace") for name in theirs.namelist())


# Progress, the link, expiry -------------------------------------------------------------------
async def test_progress_the_owners_signed_link_and_its_expiry(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "链接单位")
    me = await add_person(context, make_client, org, "下载本人")
    other = await add_person(context, make_client, org, "别人")

    started = await me.post("/privacy/exports")
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    again = await me.post("/privacy/exports")
    assert again.json()["job_id"] == job_id  # one export at a time
    queued = (await me.get("/privacy/exports")).json()["items"]
    assert queued[0]["status"] == "queued" and queued[0]["download_url"] is None
    await run_jobs(context)

    job = (await me.get(f"/jobs/{job_id}")).json()
    assert job["status"] == "succeeded"
    assert job["progress"]["percent"] == 100
    assert job["progress"]["done"] == job["progress"]["total"] == len(person_tables(metadata)) + 1
    [entry] = (await me.get("/privacy/exports")).json()["items"]
    url = entry["download_url"]
    assert url.startswith(f"/api/v1/privacy/exports/{job_id}/download?expires=")
    assert entry["bytes"] > 0

    # Only the owner, only with the signature, only this job's.
    assert (await other.http.get(url)).status_code == 404
    anonymous = await make_client().get(url)
    assert anonymous.status_code == 401
    forged = url[: url.index("signature=") + len("signature=")] + "0" * 64
    assert (await me.http.get(forged)).json()["code"] == "privacy.rights.export_link_invalid"
    expires = int(url.split("expires=")[1].split("&")[0])
    stretched = url.replace(f"expires={expires}", f"expires={expires + 86_400}")
    assert (await me.http.get(stretched)).status_code == 403
    assert (await me.http.get(url)).status_code == 200
    async with context.db.transaction() as session:
        downloads = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "privacy.export_downloaded", AuditEntry.object_id == job_id
            )
        )
    assert downloads is not None and downloads.actor_account_id == me.account_id

    # Stored encrypted: the bytes in storage are not a zip.
    stored = await context.storage.get(exporting.storage_key(me.account_id, job_id))
    assert not stored.startswith(b"PK")

    # After 24 hours the link is dead and the hourly job deletes the file.
    clock.advance(24 * 3600 + 60)
    expired = await me.http.get(url)
    assert expired.status_code == 410
    assert expired.json()["code"] == "privacy.rights.export_expired"
    assert (await me.get("/privacy/exports")).json()["items"][0]["download_url"] is None
    await run_jobs(context)
    assert not await context.storage.exists(exporting.storage_key(me.account_id, job_id))
    async with context.db.transaction() as session:
        finished = await session.get(Job, job_id)
        assert finished is not None and (finished.result or {}).get("files_removed") is True


async def test_the_link_lifetime_is_configurable(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    context.settings = context.settings.with_overrides(extra={"privacy_export_link_hours": 2})
    org = await open_org(context, make_client, "短链接单位")
    me = await add_person(context, make_client, org, "短链接本人")
    await me.post("/privacy/exports")
    await run_jobs(context)
    listed = (await me.get("/privacy/exports")).json()
    assert listed["link_hours"] == 2
    [entry] = listed["items"]
    lifetime = datetime.fromisoformat(entry["expires_at"]) - datetime.fromisoformat(entry["finished_at"])
    assert timedelta(hours=2) - timedelta(minutes=1) < lifetime <= timedelta(hours=2)

    clock.advance(2 * 3600 + 60)

    assert (await me.http.get(entry["download_url"])).status_code == 410


async def test_the_summary_counts_what_the_export_holds(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    world = await seed_person_everywhere(context, make_client)
    _, archive = await export_zip(world.me, context)
    exported = {entry["table"]: entry["rows"] for entry in _read_json(archive, "manifest.json")["tables"]}

    summary = await world.me.get("/privacy/my-data")

    assert summary.status_code == 200, summary.text
    body = summary.json()
    counted = {table["table"]: table["rows"] for table in body["tables"]}
    # Downloading the export added an audit entry of my actions since; everything else is equal.
    assert counted.pop("audit_log") == exported.pop("audit_log") + 1
    assert counted == exported
    categories = {category["data_class"]: category for category in body["categories"]}
    assert {"identity", "contact", "sensitive", "location", "business"} <= set(categories)
    assert "accounts" in categories["sensitive"]["tables"]  # the mobile number
    assert "im_messages" in categories["business"]["tables"]  # my words
    assert "password_hash" not in json.dumps(body)


async def test_leaving_an_organisation_deletes_the_exports_that_hold_its_data(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org_a = await open_org(context, make_client, "离开甲单位")
    org_b = await open_org(context, make_client, "留下乙单位")
    me = await add_person(context, make_client, org_a, "两处成员")
    await add_person(context, make_client, org_b, "两处成员", mobile=me.mobile, log_in=False)
    job_id = (await me.post("/privacy/exports")).json()["job_id"]
    await run_jobs(context)
    stored = exporting.storage_key(me.account_id, job_id)
    assert await context.storage.exists(stored)

    removed = await org_a.admin.http.delete(
        f"/api/v1/org/members/{me.membership_id}",
        headers={"X-CSRF-Token": org_a.admin.http.cookies.get("zt_csrf") or ""},
    )

    assert removed.status_code == 204, removed.text
    assert not await context.storage.exists(stored)
    [entry] = (await me.get("/privacy/exports")).json()["items"]  # the account stays (organisation B)
    assert entry["download_url"] is None
