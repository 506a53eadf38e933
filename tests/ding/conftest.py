"""DING tests run the delivery jobs themselves (ding_world.run_jobs), so that nothing is sent by
the app's background runner while a test looks; the settings turn that runner off."""

from __future__ import annotations

import pytest

from zhengtong.core.config import Settings
from zhengtong.platform.jobs import import_domain_handlers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    import_domain_handlers()  # the app's runner would have imported every domain's job handlers
    return settings.with_overrides(run_jobs_in_process=False)
