"""Tables of privacy.consent.

- Policy versions are global (the operator publishes one policy for the platform); each account's
  acknowledgements say which version it accepted, when and how.
- Separate consents (单独同意) are given to one organisation's processing, so they hang off the
  membership: the same person decides again in another organisation, and leaving the
  organisation takes the consents and the data that depended on them along.
- Minors: the birth date an admin recorded and the guardian's consent, both encrypted with the
  organisation's data key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class PolicyKind:
    MINOR = "minor"  # announced with a dismissible notice
    MAJOR = "major"  # blocks the API until acknowledged (policy §7: 重大变更 … 弹窗提示)


class PolicyVersion(IdMixin, Base):
    """One published version of the privacy policy. Never changed once published."""

    __tablename__ = "policy_versions"
    __table_args__ = (Index("ix_policy_versions_kind_version", "kind", "version"),)

    version: Mapped[int] = mapped_column(Integer, unique=True, info=NOT_PERSONAL)
    kind: Mapped[str] = mapped_column(String(10), info=NOT_PERSONAL)
    text_zh: Mapped[str] = mapped_column(Text, info=NOT_PERSONAL)
    text_en: Mapped[str] = mapped_column(Text, info=NOT_PERSONAL)
    summary_zh: Mapped[str] = mapped_column(Text, default="", info=NOT_PERSONAL)  # what changed
    summary_en: Mapped[str] = mapped_column(Text, default="", info=NOT_PERSONAL)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # The operator's staff account that published it (NULL: the command line, or the account is gone).
    published_by: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )


class AckChannel:
    FIRST_LOGIN = "first_login"  # the first login counts as reading the policy current then
    WEB = "web"  # the pop-up or notice of the web client
    API = "api"  # an API client (bearer token)
    PUBLISHED = "published"  # the operator who published it


class PolicyAcknowledgement(IdMixin, Base):
    """An account accepted a version (and with it every earlier one)."""

    __tablename__ = "policy_acknowledgements"
    __table_args__ = (
        UniqueConstraint("account_id", "version"),
        Index("ix_policy_acknowledgements_account_id_version", "account_id", "version"),
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    version: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)  # the version's number, for the gate
    channel: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    acknowledged_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class ConsentRecord(IdMixin, Base):
    """A separate consent to one optional purpose, given by a member to their organisation.
    A withdrawal closes the record (`withdrawn_at`); granting again opens a new one, so the rows
    are the history. At most one record per member and purpose is open."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index(
            "ix_consent_records_open",
            "membership_id",
            "purpose",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    purpose: Mapped[str] = mapped_column(String(40), info=NOT_PERSONAL)
    purpose_version: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)  # the text they agreed to
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    deleted_rows: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)  # at withdrawal


class ContactMatchHash(IdMixin, CreatedAtMixin, Base):
    """A keyed hash of one number in a member's phone contacts, kept only while their consent to
    contact matching stands (the number itself never reaches the server)."""

    __tablename__ = "contact_match_hashes"
    __table_args__ = (UniqueConstraint("membership_id", "contact_hash"),)

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    contact_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        info=personal(
            DataClass.CONTACT,
            DELETE,
            encrypted=True,
            note="HMAC of a contact's number under a key derived from the organisation's data key",
        ),
    )


class MinorRecord(IdMixin, Base):
    """The birth date an admin recorded for a member, which tells whether they are under 14."""

    __tablename__ = "minor_records"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), unique=True, info=NOT_PERSONAL
    )
    birth_date_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.SENSITIVE, DELETE, encrypted=True, note="ISO date")
    )
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class GuardianConsent(IdMixin, Base):
    """A guardian's consent to the organisation processing a minor member's data, as recorded by
    an admin with the evidence they hold. Withdrawn records stay as history."""

    __tablename__ = "guardian_consents"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    guardian_name_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.IDENTITY, DELETE, encrypted=True, note="the guardian's name")
    )
    relation: Mapped[str] = mapped_column(
        String(20), info=personal(DataClass.IDENTITY, DELETE, note="parent, guardian or other")
    )
    guardian_contact_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.CONTACT, DELETE, encrypted=True, note="the guardian's phone")
    )
    evidence_note_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary,
        info=personal(DataClass.IDENTITY, DELETE, encrypted=True, note="where the signed form is"),
    )
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class DataNotice(IdMixin, Base):
    """The member has been shown which data their organisation provided about them (once per
    membership, at the first login after it was opened)."""

    __tablename__ = "data_notices"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), unique=True, info=NOT_PERSONAL
    )
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
