"""WebSocket endpoint: each connected client hears the events published to its account."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["realtime"])
