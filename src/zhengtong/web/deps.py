"""Typed dependencies for route handlers: the context, the request's transaction, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext


# Dependencies are coroutines even when they do not await: FastAPI runs a plain function in its
# thread pool, and a trip to a thread and back costs a few hundred microseconds on our machines.
async def get_context(request: Request) -> AppContext:
    return _context_of(request)


def _context_of(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits after the handler returns and before the response
    is sent (scope="function"), rolls back when the handler raises."""
    async with _context_of(request).db.transaction() as session:
        yield session


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"


Context = Annotated[AppContext, Depends(get_context)]
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
ClientIp = Annotated[str, Depends(client_ip)]
