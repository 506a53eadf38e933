"""Tables of privacy.rights: the person's requests to their organisation (the controller), the
notices that tell them about changes, and the ledger of disclosures to third parties.

A request belongs to the membership that filed it and goes with it (ON DELETE CASCADE): when the
person leaves the organisation, what they wrote goes too; the audit log keeps the ids of what was
filed and decided for its legal retention period. A disclosure is the organisation's record and
stays; the link to each person concerned goes with that person's membership.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, ORGANISATION_RECORD, DataClass, personal


class RequestKind(StrEnum):
    """The rights of 《个人信息保护法》第四十四条至第四十八条 a person exercises by asking."""

    ACCESS = "access"  # 查阅
    COPY = "copy"  # 复制
    CORRECTION = "correction"  # 更正、补充
    DELETION = "deletion"  # 删除
    WITHDRAW_CONSENT = "withdraw_consent"  # 撤回同意
    EXPLANATION = "explanation"  # 解释说明处理规则


class RequestStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REFUSED = "refused"  # with a reason
    WITHDRAWN = "withdrawn"  # by the person


OPEN_STATUSES = frozenset({RequestStatus.OPEN, RequestStatus.IN_PROGRESS})


class RequestEventKind(StrEnum):
    FILED = "filed"
    STATUS = "status"  # the organisation (or the person, withdrawing) changed the status
    REPLY = "reply"


class PrivacyRequest(IdMixin, CreatedAtMixin, Base):
    """A person's request to their organisation, answered within 15 working days (`due_on`)."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_org_id_status", "org_id", "status"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    kind: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    details: Mapped[str] = mapped_column(
        Text, default="", info=personal(DataClass.IDENTITY, DELETE, note="the person's own words")
    )
    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.OPEN, info=NOT_PERSONAL)
    due_on: Mapped[date] = mapped_column(Date, info=NOT_PERSONAL)  # the 15th working day after filing
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    handled_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    resolution: Mapped[str] = mapped_column(
        Text,
        default="",
        info=personal(
            DataClass.IDENTITY, DELETE, note="the organisation's answer: what was done, or why not"
        ),
    )


class PrivacyRequestEvent(IdMixin, CreatedAtMixin, Base):
    """One line of a request's history: filed, a status change, or a reply from either side."""

    __tablename__ = "privacy_request_events"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    kind: Mapped[str] = mapped_column(String(10), info=NOT_PERSONAL)
    status: Mapped[str | None] = mapped_column(String(12), info=NOT_PERSONAL)  # the new status
    from_organization: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    author_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    text: Mapped[str] = mapped_column(
        Text, default="", info=personal(DataClass.IDENTITY, DELETE, note="about the person's request")
    )


class RequestNotice(IdMixin, CreatedAtMixin, Base):
    """An in-app notice to the person that their request changed; the client words it."""

    __tablename__ = "privacy_request_notices"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    request_id: Mapped[str] = mapped_column(
        ForeignKey("privacy_requests.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    event_kind: Mapped[str] = mapped_column(String(10), info=NOT_PERSONAL)  # status or reply
    status: Mapped[str] = mapped_column(String(12), info=NOT_PERSONAL)  # the request's status then
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class RecipientKind(StrEnum):
    APP = "app"  # a third-party application the organisation enabled
    AUTHORITY = "authority"  # 行政机关: public security, supervision, …
    COURT = "court"  # 司法机关: courts and procuratorates
    PARTNER = "partner"  # a service provider under contract
    OTHER = "other"


class LegalBasis(StrEnum):
    """《个人信息保护法》第十三条."""

    CONSENT = "consent"  # 取得个人的同意
    CONTRACT = "contract"  # 订立、履行合同或人力资源管理所必需
    LAW = "law"  # 履行法定职责或者法定义务所必需 (a request by an authority under the law)
    VITAL_INTERESTS = "vital_interests"  # 突发公共卫生事件或紧急情况下保护生命健康和财产安全
    PUBLIC_INTEREST = "public_interest"  # 为公共利益实施新闻报道、舆论监督


class DisclosureSource(StrEnum):
    ADMIN = "admin"  # recorded by an admin (a legal request)
    APP = "app"  # recorded by the platform when an app received data
    OPEN_API = "open_api"
    SYSTEM = "system"


class Disclosure(IdMixin, CreatedAtMixin, Base):
    """One hand-off of personal data to a third party, with its legal basis. The people concerned
    are in `disclosure_subjects`."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_org_id_disclosed_at", "org_id", "disclosed_at"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    recipient_kind: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    recipient: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)  # an app or an authority
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    legal_basis: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    reference: Mapped[str] = mapped_column(String(200), default="", info=NOT_PERSONAL)  # 文书编号
    purpose: Mapped[str] = mapped_column(
        Text,
        default="",
        info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, note="free text written by the admin"),
    )
    source: Mapped[str] = mapped_column(String(20), default=DisclosureSource.ADMIN, info=NOT_PERSONAL)
    source_ref: Mapped[str] = mapped_column(String(100), default="", info=NOT_PERSONAL)  # e.g. an app id
    recorded_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    disclosed_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # 《个人信息保护法》第十八条、第三十五条: when the law requires secrecy (an investigation),
    # the people concerned are not told before this date.
    withhold_until: Mapped[date | None] = mapped_column(Date, info=NOT_PERSONAL)


class DisclosureSubject(IdMixin, Base):
    """A person whose data a disclosure handed over."""

    __tablename__ = "disclosure_subjects"
    __table_args__ = (UniqueConstraint("disclosure_id", "membership_id"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    disclosure_id: Mapped[str] = mapped_column(
        ForeignKey("disclosures.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
