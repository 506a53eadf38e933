"""An organisation is the tenant and the controller of its members' data. Its department tree,
its members (memberships: an account's place in one organisation, carrying the profile the
organisation controls), roles, admins and the rules that decide who sees whom live here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class OrgStatus(StrEnum):
    ACTIVE = "active"
    DEREGISTERING = "deregistering"  # cooling-off before the purge


class MemberRole(StrEnum):
    MEMBER = "member"
    MAIN_ADMIN = "main_admin"  # all system and security duties; creates the other admins
    ADMIN = "admin"  # a sub-admin: duties and scope come from AdminGrant


ADMIN_ROLES = frozenset({MemberRole.MAIN_ADMIN, MemberRole.ADMIN})


class AdminDuty(StrEnum):
    """三员分立: the system, security and audit duties are held apart."""

    SYSTEM = "system"  # members, departments, roles, import/export within a scope
    SECURITY = "security"  # visibility rules, hidden departments and fields, SCIM tokens
    AUDIT = "audit"  # reads the audit log, and nothing else


class MemberStatus(StrEnum):
    NOT_ACTIVATED = "not_activated"  # opened by an admin, not logged in yet
    ACTIVE = "active"


class VisibilityMode(StrEnum):
    SELF = "self"  # sees only themself
    OWN_DEPARTMENTS = "own_departments"  # their own departments and everything below
    LISTED = "listed"  # their own departments plus the listed ones (with everything below)


class Organization(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default=OrgStatus.ACTIVE, info=NOT_PERSONAL)
    # The organisation's data key, wrapped by the master key; NULL once destroyed (crypto-shredding).
    data_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, info=NOT_PERSONAL)
    # Directory policy: {"watermark": bool, "hidden_fields": [...]} — see org.schemas.OrgSettings.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=NOT_PERSONAL)


class Department(IdMixin, CreatedAtMixin, Base):
    """A node of the tree. Each organisation has one root (parent_id NULL) named like it.
    `path` lists the ids from the root down to this node ("/root/…/self/"), so a subtree is a
    prefix query."""

    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("org_id", "parent_id", "name"),
        Index("ix_departments_org_id_path", "org_id", "path"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True, info=NOT_PERSONAL
    )
    name: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    path: Mapped[str] = mapped_column(String(2000), info=NOT_PERSONAL)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    # Hidden departments are invisible to everyone but admins and the whitelist
    # {"members": [membership ids], "departments": [department ids]}.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    hidden_whitelist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=NOT_PERSONAL)


class Membership(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("org_id", "account_id"),
        UniqueConstraint("org_id", "job_number"),
    )

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    name: Mapped[str] = mapped_column(String(100), info=personal(DataClass.IDENTITY, DELETE))
    role: Mapped[str] = mapped_column(String(20), default=MemberRole.MEMBER, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default=MemberStatus.NOT_ACTIVATED, info=NOT_PERSONAL)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    job_number: Mapped[str | None] = mapped_column(String(64), info=personal(DataClass.IDENTITY, DELETE))
    title: Mapped[str] = mapped_column(String(100), default="", info=personal(DataClass.IDENTITY, DELETE))
    org_email: Mapped[str] = mapped_column(String(200), default="", info=personal(DataClass.CONTACT, DELETE))
    office_phone: Mapped[str] = mapped_column(
        String(64), default="", info=personal(DataClass.CONTACT, DELETE)
    )
    work_place: Mapped[str] = mapped_column(String(200), default="", info=personal(DataClass.CONTACT, DELETE))
    hired_date: Mapped[date | None] = mapped_column(Date, info=personal(DataClass.IDENTITY, DELETE))
    manager_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    avatar_key: Mapped[str | None] = mapped_column(String(200), info=personal(DataClass.IDENTITY, DELETE))
    hide_mobile: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    executive: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)  # 高管模式
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, info=personal(DataClass.IDENTITY, DELETE)
    )


class MemberDepartment(IdMixin, Base):
    """A member's seat in a department, with the title they hold there."""

    __tablename__ = "member_departments"
    __table_args__ = (UniqueConstraint("membership_id", "department_id"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    department_id: Mapped[str] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    title: Mapped[str] = mapped_column(String(100), default="", info=personal(DataClass.IDENTITY, DELETE))
    is_head: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)


class Role(IdMixin, CreatedAtMixin, Base):
    """Roles (角色) are independent of departments: 财务， 人事专员， 值班员 …"""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    group_name: Mapped[str] = mapped_column(String(100), default="默认", info=NOT_PERSONAL)


class MemberRoleLink(IdMixin, Base):
    __tablename__ = "member_roles"
    __table_args__ = (UniqueConstraint("membership_id", "role_id"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )


class AdminGrant(IdMixin, CreatedAtMixin, Base):
    """What a sub-admin may do: one duty, within department subtrees (empty: the whole
    organisation), limited to chosen functions (empty: every function of the duty)."""

    __tablename__ = "admin_grants"
    __table_args__ = (UniqueConstraint("membership_id", "duty"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    duty: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    department_ids: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    functions: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)


class VisibilityRule(IdMixin, CreatedAtMixin, Base):
    """Members of `department_id` (and below) see only what `mode` allows. The most specific
    rule (deepest department) that applies to a member wins; without one, everyone is visible."""

    __tablename__ = "visibility_rules"
    __table_args__ = (UniqueConstraint("org_id", "department_id"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    department_id: Mapped[str] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    mode: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    listed_department_ids: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)


class CustomFieldDefinition(IdMixin, CreatedAtMixin, Base):
    """An admin-defined profile field; members' values live in Membership.custom_fields."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    key: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    label: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)


class Invite(IdMixin, CreatedAtMixin, Base):
    """An invitation link (and QR) into a department; people who use it ask to join and an
    admin approves. Only a keyed hash of the link's token is stored."""

    __tablename__ = "invites"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=NOT_PERSONAL)
    department_id: Mapped[str] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    created_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class JoinRequest(IdMixin, CreatedAtMixin, Base):
    """Someone who used an invitation and proved their mobile number, waiting for an admin."""

    __tablename__ = "join_requests"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    invite_id: Mapped[str] = mapped_column(ForeignKey("invites.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    mobile_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.SENSITIVE, DELETE, encrypted=True)
    )
    mobile_index: Mapped[bytes] = mapped_column(
        LargeBinary(32), info=personal(DataClass.CONTACT, DELETE, encrypted=True, note="keyed blind index")
    )
    name: Mapped[str] = mapped_column(String(100), info=personal(DataClass.IDENTITY, DELETE))
    status: Mapped[str] = mapped_column(String(10), default=JoinRequestStatus.PENDING, info=NOT_PERSONAL)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
