"""The optional purposes a member may separately consent to (单独同意), declared in code.

Each purpose says what it does, what withdrawing deletes, and whether it is offered yet. A
purpose that is offered has a withdraw handler (`consents.WITHDRAW_HANDLERS`), which stops the
processing and deletes the data that depended on the consent; `consents.withdraw` calls it.

Consents are given to one organisation (they hang off the membership): contact matching finds
colleagues in that organisation, and biometrics and location serve its attendance. The same
person decides again in each organisation they belong to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.org.models import Membership
from zhengtong.privacy.consent import errors
from zhengtong.privacy.consent.models import ConsentRecord

CONTACT_MATCHING = "contact_matching"
BIOMETRICS = "biometrics"
LOCATION = "location"

# Stops a purpose's processing and deletes its data: (session, context, membership) → rows deleted.
WithdrawHandler = Callable[[AsyncSession, AppContext, Membership], Awaitable[int]]


@dataclass(frozen=True)
class Purpose:
    key: str
    version: int  # raised when the description changes; a consent records the version agreed to
    offered: bool  # False: declared for a later feature, cannot be granted yet
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    on_withdraw_zh: str  # what withdrawing deletes
    on_withdraw_en: str


PURPOSES: dict[str, Purpose] = {
    purpose.key: purpose
    for purpose in (
        Purpose(
            key=CONTACT_MATCHING,
            version=1,
            offered=True,
            title_zh="手机通讯录匹配同事",
            title_en="Find colleagues from my phone contacts",
            description_zh=(
                "您的设备把通讯录中每个号码的加密摘要(带密钥的哈希，号码本身不会上传)发送给服务器，"
                "服务器告诉您其中哪些是本单位您可见的同事。摘要只在您同意期间保存，用于之后为您推荐新加入的同事。"
            ),
            description_en=(
                "Your device sends a keyed hash of each number in your contacts (never the numbers "
                "themselves); the server tells you which of them are colleagues in this organisation "
                "you may see. The hashes are kept only while you consent, to suggest colleagues who "
                "join later."
            ),
            on_withdraw_zh="撤回后立即停止匹配，并删除已上传的全部通讯录摘要。",
            on_withdraw_en="Withdrawing stops matching at once and deletes every contact hash you uploaded.",
        ),
        Purpose(
            key=BIOMETRICS,
            version=1,
            offered=False,
            title_zh="人脸/指纹考勤",
            title_en="Face or fingerprint attendance",
            description_zh="本单位开通考勤后，用人脸或指纹特征核验打卡人身份。该功能尚未提供。",
            description_en=(
                "When your organisation turns on attendance, your face or fingerprint features verify "
                "who clocks in. Not offered yet."
            ),
            on_withdraw_zh="撤回后删除您的人脸/指纹底图和特征。",
            on_withdraw_en="Withdrawing deletes your face or fingerprint templates and features.",
        ),
        Purpose(
            key=LOCATION,
            version=1,
            offered=False,
            title_zh="位置签到",
            title_en="Location check-in",
            description_zh="签到和外勤打卡时记录您的地理位置。该功能尚未提供。",
            description_en="Records where you are when you check in or clock in outside. Not offered yet.",
            on_withdraw_zh="撤回后停止记录位置，并删除已记录的签到位置。",
            on_withdraw_en="Withdrawing stops recording your location and deletes the recorded check-ins.",
        ),
    )
}


def get_purpose(key: str) -> Purpose:
    purpose = PURPOSES.get(key)
    if purpose is None:
        raise AppError(errors.PURPOSE_UNKNOWN)
    return purpose


async def open_consent(session: AsyncSession, membership_id: str, purpose_key: str) -> ConsentRecord | None:
    """The standing consent of a member to a purpose, or None."""
    result = await session.execute(
        select(ConsentRecord).where(
            ConsentRecord.membership_id == membership_id,
            ConsentRecord.purpose == purpose_key,
            ConsentRecord.withdrawn_at.is_(None),
        )
    )
    return result.scalars().first()


async def require_consent(session: AsyncSession, membership_id: str, purpose_key: str) -> ConsentRecord:
    """The standing consent, or `privacy.consent.consent_required`: processing for an optional
    purpose starts with this call."""
    record = await open_consent(session, membership_id, purpose_key)
    if record is None:
        raise AppError(errors.CONSENT_REQUIRED, {"purpose": purpose_key})
    return record
