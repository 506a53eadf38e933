"""The rights of the person: export, correction and deletion requests, cancelling the account, disclosures.

A member leaving an organisation loses their stored exports (snapshots holding its data)."""

from zhengtong.platform.hooks import on_member_leaving
from zhengtong.privacy.rights.exporting import forget_exports_on_leaving

on_member_leaving(forget_exports_on_leaving)
