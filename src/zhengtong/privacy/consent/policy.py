"""Privacy policy versions and who acknowledged which.

The operator publishes versions, numbered 1, 2, 3 …; a version is minor or major. Acknowledging
version N accepts every version up to N. Whoever has not acknowledged the latest major version
is held at the gate (`required_version`): the API answers `privacy.consent.policy_ack_required`
until they do. A newer minor version only raises a notice. An account's first login counts as
acknowledging the version current at that moment: the login page says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import after_commit
from zhengtong.core.errors import AppError
from zhengtong.identity.models import Account
from zhengtong.org.errors import OPERATOR_REQUIRED
from zhengtong.platform import audit
from zhengtong.privacy.consent import errors
from zhengtong.privacy.consent.models import AckChannel, PolicyAcknowledgement, PolicyKind, PolicyVersion

KINDS = (PolicyKind.MINOR, PolicyKind.MAJOR)


async def latest_version(session: AsyncSession) -> PolicyVersion | None:
    result = await session.execute(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    return result.scalars().first()


LATEST_MAJOR_KEY = "privacy.consent.latest_major"  # the gate's cache in AppContext.extras


def forget_latest_major(context: AppContext) -> None:
    """Called when a version is published, so that this process's gate blocks on it at once."""
    context.extras.pop(LATEST_MAJOR_KEY, None)


async def latest_major_version(session: AsyncSession) -> int | None:
    result = await session.execute(
        select(func.max(PolicyVersion.version)).where(PolicyVersion.kind == PolicyKind.MAJOR)
    )
    return result.scalar_one_or_none()


async def current_version(session: AsyncSession) -> PolicyVersion:
    """The policy in force: the latest published version."""
    latest = await latest_version(session)
    if latest is None:
        raise AppError(errors.POLICY_NOT_PUBLISHED)
    return latest


async def get_version(session: AsyncSession, version: int) -> PolicyVersion:
    result = await session.execute(select(PolicyVersion).where(PolicyVersion.version == version))
    found = result.scalars().first()
    if found is None:
        raise AppError(errors.POLICY_VERSION_UNKNOWN)
    return found


async def list_versions(session: AsyncSession) -> Sequence[PolicyVersion]:
    """Every version, newest first."""
    result = await session.execute(select(PolicyVersion).order_by(PolicyVersion.version.desc()))
    return result.scalars().all()


async def require_operator(session: AsyncSession, account_id: str) -> None:
    """Only the platform operator's staff publish policy versions."""
    account = await session.get(Account, account_id)
    if account is None or not account.is_operator:
        raise AppError(OPERATOR_REQUIRED)


async def publish(
    session: AsyncSession,
    context: AppContext,
    *,
    kind: str,
    text_zh: str,
    text_en: str,
    summary_zh: str = "",
    summary_en: str = "",
    actor_id: str | None,
    ip: str,
) -> PolicyVersion:
    """Publishes the next version. The publishing operator has read it, so it counts as their
    acknowledgement. Callers check that the actor is the operator."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    if not text_zh.strip() or not text_en.strip():
        raise AppError(errors.POLICY_TEXT_MISSING)
    latest = await latest_version(session)
    version = PolicyVersion(
        version=(latest.version if latest else 0) + 1,
        kind=kind,
        text_zh=text_zh,
        text_en=text_en,
        summary_zh=summary_zh,
        summary_en=summary_en,
        published_at=utcnow(),
        published_by=actor_id,
    )
    session.add(version)
    await session.flush()
    forget_latest_major(context)
    if kind == PolicyKind.MAJOR:
        # Open sockets were admitted under the previous version: they reconnect, and the gate at
        # connect holds back those who have not acknowledged this one.
        after_commit(session, context.events.reconnect_all)
    if actor_id is not None:
        await acknowledge(session, account_id=actor_id, version=version.version, channel=AckChannel.PUBLISHED)
    await audit.record(
        session,
        context.keyring,
        action="privacy.policy_published",
        actor_id=actor_id,
        object_type="policy_version",
        object_id=version.id,
        ip=ip,
        detail={"version": version.version, "kind": kind},
    )
    return version


# Acknowledgements ----------------------------------------------------------------------------
async def acknowledged_version(session: AsyncSession, account_id: str) -> int | None:
    """The highest version the account acknowledged, or None."""
    result = await session.execute(
        select(func.max(PolicyAcknowledgement.version)).where(PolicyAcknowledgement.account_id == account_id)
    )
    return result.scalar_one_or_none()


async def required_version(session: AsyncSession, account_id: str) -> int | None:
    """The latest major version the account has not acknowledged yet, or None: one indexed query,
    since the gate asks it on every request."""
    acknowledged = (
        select(func.coalesce(func.max(PolicyAcknowledgement.version), 0))
        .where(PolicyAcknowledgement.account_id == account_id)
        .scalar_subquery()
    )
    result = await session.execute(
        select(func.max(PolicyVersion.version)).where(
            PolicyVersion.kind == PolicyKind.MAJOR, PolicyVersion.version > acknowledged
        )
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class PolicyStatus:
    current: PolicyVersion | None
    acknowledged: int | None
    required: PolicyVersion | None  # a major version that blocks until acknowledged
    notice: PolicyVersion | None  # a newer minor version, announced but not blocking


async def status_of(session: AsyncSession, account_id: str) -> PolicyStatus:
    current = await latest_version(session)
    acknowledged = await acknowledged_version(session, account_id)
    required_number = await required_version(session, account_id)
    required = await get_version(session, required_number) if required_number is not None else None
    unread = current is not None and current.version > (acknowledged or 0)
    return PolicyStatus(
        current=current,
        acknowledged=acknowledged,
        required=required,
        notice=current if unread and required is None else None,
    )


async def acknowledge(
    session: AsyncSession, *, account_id: str, version: int, channel: str
) -> PolicyAcknowledgement:
    """Records that the account accepted `version` (idempotent: the first record stands)."""
    policy_version = await get_version(session, version)
    existing = await session.execute(
        select(PolicyAcknowledgement).where(
            PolicyAcknowledgement.account_id == account_id, PolicyAcknowledgement.version == version
        )
    )
    found = existing.scalars().first()
    if found is not None:
        return found
    acknowledgement = PolicyAcknowledgement(
        account_id=account_id,
        version_id=policy_version.id,
        version=version,
        channel=channel,
        acknowledged_at=utcnow(),
    )
    session.add(acknowledgement)
    await session.flush()
    return acknowledgement


async def acknowledge_at_first_login(session: AsyncSession, account_id: str) -> None:
    """The first login counts as reading the policy in force then (the login page says so)."""
    current = await latest_version(session)
    if current is not None:
        await acknowledge(
            session, account_id=account_id, version=current.version, channel=AckChannel.FIRST_LOGIN
        )


async def acknowledgements_of(session: AsyncSession, account_id: str) -> Sequence[PolicyAcknowledgement]:
    """The account's acknowledgements, newest version first."""
    result = await session.execute(
        select(PolicyAcknowledgement)
        .where(PolicyAcknowledgement.account_id == account_id)
        .order_by(PolicyAcknowledgement.version.desc())
    )
    return result.scalars().all()


# The first version ---------------------------------------------------------------------------
def bundled_text(name: str) -> str:
    """A policy text shipped with the package (policy_text/…)."""
    return resources.files("zhengtong.privacy.consent").joinpath("policy_text", name).read_text("utf-8")


async def publish_first_version_if_none(session: AsyncSession, context: AppContext) -> PolicyVersion | None:
    """Publishes the bundled policy as version 1 when nothing was published yet (the demo, a new
    installation); returns it, or None when a version exists."""
    if await latest_version(session) is not None:
        return None
    return await publish(
        session,
        context,
        kind=PolicyKind.MAJOR,
        text_zh=bundled_text("v1.zh.txt"),
        text_en=bundled_text("v1.en.txt"),
        summary_zh="首个版本。",
        summary_en="The first version.",
        actor_id=None,
        ip="",
    )
