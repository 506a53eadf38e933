"""The background jobs of privacy.operator, registered where they are written: the shutdown's
announcement and final purge (shutdown.py). Imported by zhengtong.privacy.jobs, so that a worker
process knows them too."""

from __future__ import annotations

from zhengtong.privacy.operator import shutdown as _shutdown  # noqa: F401
