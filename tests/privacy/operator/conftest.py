"""The operator tests run jobs when they say so (run_jobs), not in the app's background runner,
and move the clock past a shutdown's 30 days with sessions that outlast it."""

from __future__ import annotations

import pytest

from zhengtong.core.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(run_jobs_in_process=False, session_days=90)
