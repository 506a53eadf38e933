"""Instant messaging (即时通讯). Department and all-staff groups follow the organisation chart."""

from zhengtong.im.conversations import sync_org_groups
from zhengtong.platform.hooks import on_org_chart_changed

on_org_chart_changed(sync_org_groups)
