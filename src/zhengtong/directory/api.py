"""Address book endpoints, for every member; visibility is applied on the server."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

from zhengtong.directory import schemas, service
from zhengtong.directory.visibility import Viewer, viewer_for
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["directory"])


def _brief(summary: service.MemberSummary) -> schemas.MemberBrief:
    member = summary.membership
    return schemas.MemberBrief(
        id=member.id,
        name=member.name,
        title=summary.title,
        is_head=summary.is_head,
        avatar_key=member.avatar_key,
        department_names=list(summary.departments),
    )


async def _watermark(session: DbSession, context: Context, viewer: Viewer) -> schemas.Watermark:
    if not viewer.watermark:
        return schemas.Watermark(enabled=False, text="")
    account = (await session.execute(select(Account).where(Account.id == viewer.account_id))).scalar_one()
    last_four = identity.decrypt_mobile(context.keyring, account)[-4:]
    return schemas.Watermark(enabled=True, text=f"{viewer.name} {last_four}")


@router.get("/directory/tree", response_model=schemas.DirectoryTree)
async def department_tree(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DirectoryTree:
    viewer = await viewer_for(session, caller)
    nodes = await service.department_tree(session, viewer)
    return schemas.DirectoryTree(
        departments=[
            schemas.DepartmentNodeRead(
                id=node.department.id,
                parent_id=node.department.parent_id,
                name=node.department.name,
                sort_order=node.department.sort_order,
                member_count=node.member_count,
            )
            for node in nodes
        ],
        watermark=await _watermark(session, context, viewer),
    )


@router.get("/directory/departments/{department_id}/members", response_model=schemas.MemberListPage)
async def department_members(
    department_id: str,
    caller: CurrentCaller,
    session: DbSession,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=500),
) -> schemas.MemberListPage:
    viewer = await viewer_for(session, caller)
    members, total = await service.department_members(
        session, viewer, department_id, offset=offset, limit=limit
    )
    return schemas.MemberListPage(total=total, items=[_brief(member) for member in members])


@router.get("/directory/members/{membership_id}", response_model=schemas.MemberCardRead)
async def member_card(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MemberCardRead:
    viewer = await viewer_for(session, caller)
    card = await service.member_card(session, context, viewer, membership_id)
    member = card.membership
    return schemas.MemberCardRead(
        id=member.id,
        name=member.name,
        mobile_masked=card.mobile_masked,
        can_reveal_mobile=card.can_reveal_mobile,
        status=member.status,
        manager_name=card.manager_name,
        seats=[schemas.SeatRead.model_validate(seat) for seat in card.seats],
        **card.fields,
    )


@router.post("/directory/members/{membership_id}/mobile", response_model=schemas.MobileRead)
async def reveal_mobile(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.MobileRead:
    viewer = await viewer_for(session, caller)
    mobile = await service.reveal_mobile(session, context, viewer, membership_id, ip=ip)
    return schemas.MobileRead(mobile=mobile)


@router.get("/directory/search", response_model=schemas.SearchRead)
async def search(
    caller: CurrentCaller, session: DbSession, q: str = Query(min_length=1, max_length=64)
) -> schemas.SearchRead:
    viewer = await viewer_for(session, caller)
    result = await service.search(session, viewer, q)
    return schemas.SearchRead(
        members=[_brief(member) for member in result.members],
        departments=[schemas.DepartmentHit(id=d.id, name=d.name) for d in result.departments],
    )
