"""The background jobs of the notification centre, registered where they are written: notice
delivery (notices.py). Imported by the job runner, so that a worker process knows them too."""

from __future__ import annotations

from zhengtong.notifications import notices as _notices  # noqa: F401
