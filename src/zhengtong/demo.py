"""`zhengtong demo`: a demonstration organisation to log in to, created once (idempotent):
about 200 members with generated Chinese names in a realistic department tree of an agency."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.directory.visibility import Viewer, viewer_for
from zhengtong.identity import service as identity
from zhengtong.im import conversations, messages
from zhengtong.im.schemas import MessageIn
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Department, Membership
from zhengtong.privacy.consent import policy

DEMO_ORG_NAME = "政通示范单位"
DEMO_ADMIN_MOBILE = "13800000001"
DEMO_ADMIN_NAME = "张明"
DEMO_MEMBER_MOBILE = "13800000002"
DEMO_MEMBER_NAME = "李华"

# Department → sub-departments, with how many members sit in each leaf.
DEMO_TREE: dict[str, dict[str, int]] = {
    "办公室": {"综合科": 12, "秘书科": 10, "机要科": 6},
    "政策法规处": {"法规科": 8, "政策研究科": 8},
    "人事处": {"干部科": 9, "人才发展科": 8},
    "财务处": {"预算科": 9, "会计核算科": 9},
    "信息化处": {"网络安全科": 11, "数据管理科": 11, "应用开发科": 12},
    "行政审批处": {"受理科": 14, "审核科": 12},
    "督查室": {"督查一科": 7, "督查二科": 7},
    "机关党委": {"组织宣传科": 8},
    "后勤服务中心": {"车辆管理科": 10, "综合保障科": 12},
}
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅飞鑫波斌宇浩凯"
    "健俊帆帅旭宁龙林欣悦晨曦雪琳瑶婷颖佳怡子涵雨萱梓轩皓然"
)
_TITLES = ["科员", "科员", "科员", "一级主任科员", "四级主任科员", "副科长"]


def _names(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
        names.add(rng.choice(_SURNAMES) + given)
    return sorted(names, key=lambda _name: rng.random())


async def seed_demo(settings: Settings) -> str:
    """Creates the demo organisation unless it exists; returns how to log in."""
    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            if await org_service.get_organization_by_name(session, DEMO_ORG_NAME) is None:
                await _create_demo(context, session)
            # The privacy policy in force, which everyone accepts at their first login.
            await policy.publish_first_version_if_none(session, context)
    finally:
        await context.close()
    return (
        f"Demo organisation “{DEMO_ORG_NAME}” is ready (about 200 members).\n"
        f"  Admin:  {DEMO_ADMIN_MOBILE} ({DEMO_ADMIN_NAME}; sets up two-step verification at first login)\n"
        f"  Member: {DEMO_MEMBER_MOBILE} ({DEMO_MEMBER_NAME})\n"
        "Log in with the mobile number; the SMS code is printed by `zhengtong outbox --last 1`."
    )


async def _create_demo(context: AppContext, session: AsyncSession) -> None:
    rng = random.Random(2026)
    organization = await org_service.open_organization(
        session,
        context,
        name=DEMO_ORG_NAME,
        admin_mobile=DEMO_ADMIN_MOBILE,
        admin_name=DEMO_ADMIN_NAME,
        actor_id=None,
        ip="127.0.0.1",
    )
    admin_account = await identity.get_account_by_mobile(
        session, context.keyring, identity.normalise_mobile(DEMO_ADMIN_MOBILE)
    )
    assert admin_account is not None
    admin = await org_service.get_membership(session, org_id=organization.id, account_id=admin_account.id)
    assert admin is not None
    scope = AdminScope(organization.id, admin.id, True, (), frozenset())
    root = await org_service.root_department(session, organization.id)
    people = iter(_names(sum(sum(leaves.values()) + 1 for leaves in DEMO_TREE.values()) + 1, rng))
    mobiles = iter(range(13800000003, 13800009999))
    first_member = True
    for order, (division_name, leaves) in enumerate(DEMO_TREE.items()):
        division = await _department(context, session, scope, root, division_name, order)
        await _add(
            context, session, scope, division, str(next(mobiles)), next(people), "处长", head=True, rng=rng
        )
        for leaf_order, (leaf_name, size) in enumerate(leaves.items()):
            leaf = await _department(context, session, scope, division, leaf_name, leaf_order)
            for index in range(size):
                if first_member:
                    mobile, name, first_member = DEMO_MEMBER_MOBILE, DEMO_MEMBER_NAME, False
                else:
                    mobile, name = str(next(mobiles)), next(people)
                title = "科长" if index == 0 else rng.choice(_TITLES)
                await _add(context, session, scope, leaf, mobile, name, title, head=index == 0, rng=rng)
    await _seed_chats(context, session, organization.id, admin)


async def _viewer(session: AsyncSession, membership: Membership) -> Viewer:
    caller = Caller(membership.account_id, "demo", membership.org_id, membership.role, True, False)
    return await viewer_for(session, caller)


async def _say(
    context: AppContext, session: AsyncSession, viewer: Viewer, conversation_id: str, *lines: str
) -> None:
    for line in lines:
        await messages.send(session, context, viewer, conversation_id, MessageIn(text=line))


async def _seed_chats(context: AppContext, session: AsyncSession, org_id: str, admin: Membership) -> None:
    """The all-staff group, the 办公室 department group, a direct chat between the demo admin and
    the demo member, and a small project group, each with a little history."""
    member_account = await identity.get_account_by_mobile(
        session, context.keyring, identity.normalise_mobile(DEMO_MEMBER_MOBILE)
    )
    assert member_account is not None
    member = await org_service.get_membership(session, org_id=org_id, account_id=member_account.id)
    assert member is not None
    boss, colleague = await _viewer(session, admin), await _viewer(session, member)
    all_staff = await conversations.ensure_synced_group(
        session, context, org_id, department_id=None, owner_id=admin.id
    )
    await _say(context, session, boss, all_staff.id, "欢迎大家使用政通，工作消息请在这里查收。")
    office = next(d for d in await org_service.list_departments(session, org_id) if d.name == "办公室")
    await conversations.ensure_synced_group(
        session, context, org_id, department_id=office.id, owner_id=admin.id
    )
    direct = await conversations.open_direct(session, context, boss, member.id)
    await _say(context, session, boss, direct.id, "李华，明天上午九点的例会材料准备好了吗？")
    await _say(context, session, colleague, direct.id, "已经准备好了，稍后发到群里。")
    scope = AdminScope(org_id, admin.id, True, (), frozenset())
    listed, _total = await org_service.list_members(
        session, scope, department_id=office.id, status=None, query=None, offset=0, limit=6
    )
    others = [m.id for m in listed if m.id not in (admin.id, member.id)][:3]
    project = await conversations.create_group(
        session, context, boss, name="示范项目组", member_ids=[member.id, *others]
    )
    await _say(
        context, session, boss, project.id, "本周五前请提交项目进度报告。", "审批流程已经上线，请大家试用。"
    )


async def _department(
    context: AppContext,
    session: AsyncSession,
    scope: AdminScope,
    parent: Department,
    name: str,
    order: int,
) -> Department:
    return await org_service.create_department(
        session,
        context,
        scope,
        parent_id=parent.id,
        name=name,
        sort_order=order,
        actor_id="demo",
        ip="127.0.0.1",
    )


async def _add(
    context: AppContext,
    session: AsyncSession,
    scope: AdminScope,
    department: Department,
    mobile: str,
    name: str,
    title: str,
    *,
    head: bool,
    rng: random.Random,
) -> None:
    profile = org_service.MemberProfile(
        name=name,
        job_number=f"ZT{mobile[-5:]}",
        title=title,
        office_phone=f"0571-8{rng.randrange(1000000, 9999999)}",
        work_place="政务服务中心 " + rng.choice("ABCD") + f"座 {rng.randrange(2, 18)} 楼",
        seats=[org_service.Seat(department.id, title, head)],
    )
    await org_service.add_member(
        session, context, scope, mobile=mobile, profile=profile, actor_id="demo", ip="127.0.0.1"
    )
