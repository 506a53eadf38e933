"""The notification tests run jobs when they say so (run_jobs), not in the app's background
runner, and bound every channel at one second so that a hanging peer fails fast."""

from __future__ import annotations

import pytest

from zhengtong.core.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(run_jobs_in_process=False, notify_timeout_seconds=1)
