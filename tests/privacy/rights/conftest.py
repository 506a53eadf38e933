"""The rights tests run jobs when the test says so (`run_jobs`), not in the app's background runner."""

from __future__ import annotations

import pytest

from zhengtong.core.config import Settings
from zhengtong.platform.jobs import import_domain_handlers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    import_domain_handlers()  # registers privacy.rights' export job, as a worker would
    return settings.with_overrides(run_jobs_in_process=False)
