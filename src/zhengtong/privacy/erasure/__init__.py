"""Removing a member and deregistering an organisation, as the personal-data inventory says.

A member leaving an organisation withdraws its archives (they hold the member list)."""

from zhengtong.platform.hooks import on_member_leaving
from zhengtong.privacy.erasure.archive import withdraw_archives_on_leaving

on_member_leaving(withdraw_archives_on_leaving)
