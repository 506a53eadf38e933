"""Instant messaging (即时通讯). Department and all-staff groups follow the organisation chart;
a member leaving the organisation leaves their conversations."""

from zhengtong.im.conversations import department_group_wanted, member_leaving, sync_org_groups
from zhengtong.platform.hooks import on_department_group_wanted, on_member_leaving, on_org_chart_changed

on_org_chart_changed(sync_org_groups)
on_member_leaving(member_leaving)
on_department_group_wanted(department_group_wanted)
