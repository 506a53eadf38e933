"""HTTP endpoints of privacy.scan."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["privacy"])
