"""Imports every domain's models so that `metadata` knows every table (Alembic, tests, privacy)."""

from zhengtong.apps import models as _apps  # noqa: F401
from zhengtong.core.db import Base
from zhengtong.ding import models as _ding  # noqa: F401
from zhengtong.directory import models as _directory  # noqa: F401
from zhengtong.identity import models as _identity  # noqa: F401
from zhengtong.im import models as _im  # noqa: F401
from zhengtong.notifications import models as _notifications  # noqa: F401
from zhengtong.org import models as _org  # noqa: F401
from zhengtong.platform import audit as _audit  # noqa: F401
from zhengtong.platform import jobs as _jobs  # noqa: F401
from zhengtong.privacy.consent import models as _privacy_consent  # noqa: F401
from zhengtong.privacy.erasure import models as _privacy_erasure  # noqa: F401
from zhengtong.privacy.operator import models as _privacy_operator  # noqa: F401
from zhengtong.privacy.rights import models as _privacy_rights  # noqa: F401
from zhengtong.privacy.scan import models as _privacy_scan  # noqa: F401
from zhengtong.robots import models as _robots  # noqa: F401
from zhengtong.scim import models as _scim  # noqa: F401
from zhengtong.worknotices import models as _worknotices  # noqa: F401

metadata = Base.metadata
