"""Hooks by which one domain reacts to another's changes inside the same transaction, without
the first importing the second: the organisation chart changes, and chat groups that follow it
(department and all-staff groups) update their members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext

ChartListener = Callable[[AsyncSession, AppContext, str], Awaitable[None]]
_chart_listeners: list[ChartListener] = []


def on_org_chart_changed(listener: ChartListener) -> ChartListener:
    if listener not in _chart_listeners:
        _chart_listeners.append(listener)
    return listener


async def org_chart_changed(session: AsyncSession, context: AppContext, org_id: str) -> None:
    """Called by the organisation service after members or departments changed."""
    for listener in _chart_listeners:
        await listener(session, context, org_id)
