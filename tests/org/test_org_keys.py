"""Organisation data keys and the key store: a purge shreds every copy, backups included; the
start-up reconciliation re-wraps old rows, reports keys that do not open and clears orphans."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from helpers import create_member
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext, build_context
from zhengtong.core.crypto import CryptoError, FieldCipher
from zhengtong.org.keys import reconcile
from zhengtong.org.models import Organization
from zhengtong.privacy.erasure.service import purge_organization


async def _wrapped_key(context: AppContext, org_id: str) -> bytes | None:
    async with context.db.transaction() as session:
        return await session.scalar(select(Organization.data_key_wrapped).where(Organization.id == org_id))


async def test_after_a_purge_a_backup_of_the_database_opens_nothing(context: AppContext) -> None:
    member = await create_member(context, org_name="将注销的单位")
    backup_of_the_row = await _wrapped_key(context, member.org_id)
    assert backup_of_the_row is not None
    sealed = context.keyring.org_cipher(member.org_id, backup_of_the_row).encrypt_text("会议纪要")

    await purge_organization(context, member.org_id)

    assert not (context.settings.keys_dir / f"{member.org_id}.key").exists()
    # The same master key and key directory, as a restored installation would have them.
    restored = build_context(context.settings)
    try:
        with pytest.raises(CryptoError):
            restored.keyring.org_cipher(member.org_id, backup_of_the_row)
        with pytest.raises(CryptoError):
            context.keyring.org_cipher(member.org_id, backup_of_the_row)
    finally:
        await restored.close()
    assert sealed  # and with it everything else the key sealed


async def test_a_row_wrapped_by_the_master_key_alone_is_re_wrapped_at_start(context: AppContext) -> None:
    member = await create_member(context, org_name="旧版本的单位")
    data_key = bytes(range(32))
    legacy_wrapper = FieldCipher(context.keyring.derive("org-key-wrapping"), national=False)
    async with context.db.transaction() as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == member.org_id)
            .values(
                data_key_wrapped=legacy_wrapper.encrypt(data_key, aad=f"org-key:{member.org_id}".encode())
            )
        )
    context.keyring.destroy_org_key(member.org_id)  # as before secrets existed
    sealed_before = FieldCipher(data_key, national=False).encrypt_text("旧消息")

    report = await reconcile(context)

    assert report.rewrapped == [member.org_id] and report.unopenable == []
    rewrapped = await _wrapped_key(context, member.org_id)
    assert context.keyring.unwrap_master_only(member.org_id, rewrapped or b"") is None
    assert context.keyring.org_cipher(member.org_id, rewrapped).decrypt_text(sealed_before) == "旧消息"
    assert (await reconcile(context)).rewrapped == []  # once


async def test_a_key_whose_secret_is_missing_is_reported_and_left_alone(context: AppContext) -> None:
    member = await create_member(context, org_name="密钥目录未挂载的单位")
    before = await _wrapped_key(context, member.org_id)
    context.keyring.destroy_org_key(member.org_id)

    report = await reconcile(context)

    assert report.unopenable == [member.org_id] and report.rewrapped == []
    assert await _wrapped_key(context, member.org_id) == before
    assert not (context.settings.keys_dir / f"{member.org_id}.key").exists()  # never a new secret


async def test_secrets_without_an_organisation_are_destroyed_once_an_hour_old(context: AppContext) -> None:
    member = await create_member(context, org_name="仍在的单位")
    context.keyring.wrap_org_key("orphan-org", bytes(32))  # its transaction rolled back, say

    assert (await reconcile(context)).orphans_destroyed == []  # may be an organisation being made
    clock.advance(2 * 3600)
    report = await reconcile(context)

    assert report.orphans_destroyed == ["orphan-org"]
    assert {stored.org_id for stored in context.keyring.stored_secrets()} == {member.org_id}
