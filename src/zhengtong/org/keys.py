"""Keeps the organisations' rows and the key store (core.keystore) in step, at every start:

- a row whose data key was wrapped by the master key alone (before key secrets existed) is
  re-wrapped under a new secret, so that deleting the secret shreds it like any other;
- a row whose key opens with neither is reported: its secret is missing (a key directory not
  mounted, or restored without it) or was destroyed;
- a secret left behind (its organisation purged, or never created because the transaction that
  made it rolled back) is deleted once it is an hour old (younger ones may belong to an
  organisation being created right now).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError
from zhengtong.org.models import Organization

log = logging.getLogger(__name__)

ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class KeyReport:
    rewrapped: list[str]
    unopenable: list[str]
    orphans_destroyed: list[str]


async def reconcile(context: AppContext) -> KeyReport:
    report = KeyReport([], [], [])
    keyring = context.keyring
    async with context.db.transaction() as session:
        rows = await session.scalars(select(Organization).where(Organization.data_key_wrapped.is_not(None)))
        keyed = set()
        for organization in rows.all():
            keyed.add(organization.id)
            wrapped = organization.data_key_wrapped
            assert wrapped is not None
            try:
                keyring.org_cipher(organization.id, wrapped)
                continue
            except CryptoError:
                pass
            data_key = keyring.unwrap_master_only(organization.id, wrapped)
            if data_key is None:
                report.unopenable.append(organization.id)
                continue
            organization.data_key_wrapped = keyring.wrap_org_key(organization.id, data_key)
            report.rewrapped.append(organization.id)
    old_enough = utcnow() - ORPHAN_GRACE
    for stored in context.keyring.stored_secrets():
        if stored.org_id not in keyed and stored.created_at < old_enough:
            keyring.destroy_org_key(stored.org_id)
            report.orphans_destroyed.append(stored.org_id)
    _log(report, context.settings.keys_dir)
    return report


def _log(report: KeyReport, key_dir: Path) -> None:
    if report.rewrapped:
        log.info("re-wrapped the data keys of %d organisations under key secrets", len(report.rewrapped))
    if report.orphans_destroyed:
        log.info(
            "destroyed %d key secrets of organisations that no longer exist", len(report.orphans_destroyed)
        )
    for org_id in report.unopenable:
        log.error(
            "organisation %s: its data key does not open; is the key directory (%s) the right one?",
            org_id,
            key_dir,
        )
