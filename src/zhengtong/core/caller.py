"""Who is acting: resolved from a session by the web layer, passed to services explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    account_id: str
    session_id: str
    org_id: str | None  # the organisation the caller is currently working in
    role: str | None  # their role there
    second_factor_done: bool
    via_cookie: bool
    second_factor_stage: str | None = None  # "verify" or "setup" while the second factor is owed
