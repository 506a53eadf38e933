"""Typed dependencies for route handlers: the context, the request's transaction, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits after the handler returns and before the response
    is sent (scope="function"), rolls back when the handler raises."""
    async with get_context(request).db.transaction() as session:
        yield session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"


Context = Annotated[AppContext, Depends(get_context)]
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
ClientIp = Annotated[str, Depends(client_ip)]
