"""The background jobs of the notification centre, registered where they are written: notice
delivery (delivery.py) and the sweep of push subscriptions whose session ended (push.py).
Imported by the job runner, so that a worker process knows them too."""

from __future__ import annotations

from zhengtong.notifications import delivery as _delivery  # noqa: F401
from zhengtong.notifications import push as _push  # noqa: F401
