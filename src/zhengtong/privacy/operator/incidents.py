"""Security incidents (个人信息安全事件): recorded by the operator, the people affected told within
30 days of discovery through e-mail, SMS, push, in-app notices and letters.

The notice carries what 《个人信息保护法》第五十七条 requires: what happened, which kinds of
personal information, the possible impact, the measures taken, what the person can do, and whom to
contact. The incident cannot be closed while someone affected has not been reached through at
least one channel (see notices.reached_condition).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.core.inventory import DataClass
from zhengtong.notifications import notices
from zhengtong.notifications.models import Channel
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit
from zhengtong.privacy.operator import errors
from zhengtong.privacy.operator.models import (
    IncidentOrganization,
    IncidentPerson,
    IncidentStatus,
    SecurityIncident,
)

NOTIFY_WITHIN = timedelta(days=30)
NOTICE_KIND = "security_incident"

# The kinds of personal information an incident may concern: the inventory's data classes.
DATA_CATEGORIES = tuple(c.value for c in DataClass if c is not DataClass.NONE)
_CATEGORY_NAMES = {
    "zh-CN": {
        "identity": "身份信息（姓名、职务等）",
        "contact": "联系方式（手机号码、邮箱等）",
        "sensitive": "敏感个人信息",
        "biometric": "生物识别信息",
        "location": "位置信息",
        "business": "业务数据（消息、文件等）",
    },
    "en": {
        "identity": "identity data (name, title and the like)",
        "contact": "contact data (mobile number, e-mail and the like)",
        "sensitive": "sensitive personal information",
        "biometric": "biometric data",
        "location": "location data",
        "business": "business data (messages, files and the like)",
    },
}
_HEADINGS = {
    "zh-CN": {
        "subject": "个人信息安全事件告知：{title}",
        "what_happened": "发生了什么",
        "data": "涉及的个人信息种类",
        "possible_impact": "可能造成的影响",
        "measures_taken": "我们已采取的补救措施",
        "person_can_do": "您可以采取的措施",
        "contact": "联系我们",
        "separator": "；",
        "colon": "：",
    },
    "en": {
        "subject": "Personal data security incident: {title}",
        "what_happened": "What happened",
        "data": "Personal data concerned",
        "possible_impact": "Possible impact",
        "measures_taken": "What we have done",
        "person_can_do": "What you can do",
        "contact": "Contact",
        "separator": "; ",
        "colon": ": ",
    },
}


def reference_of(incident_id: str) -> str:
    return f"incident:{incident_id}"


def deadline_of(incident: SecurityIncident) -> datetime:
    return incident.discovered_at + NOTIFY_WITHIN


async def get_incident(session: AsyncSession, incident_id: str) -> SecurityIncident:
    incident = await session.get(SecurityIncident, incident_id)
    if incident is None:
        raise AppError(NOT_FOUND)
    return incident


async def list_incidents(session: AsyncSession) -> list[SecurityIncident]:
    rows = await session.scalars(
        select(SecurityIncident).order_by(SecurityIncident.discovered_at.desc(), SecurityIncident.id)
    )
    return list(rows)


def _open(incident: SecurityIncident) -> None:
    if incident.status != IncidentStatus.OPEN:
        raise AppError(errors.INCIDENT_CLOSED)


async def record_incident(
    session: AsyncSession,
    context: AppContext,
    *,
    discovered_at: datetime,
    data_categories: Sequence[str],
    texts: dict[str, dict[str, str]],
    org_ids: Sequence[str],
    account_ids: Sequence[str],
    actor_id: str,
    ip: str,
) -> SecurityIncident:
    """Records an incident with its texts ({language: {field: text}}, zh-CN required) and the
    organisations and people it affects."""
    if discovered_at > utcnow():
        raise AppError(errors.INCIDENT_DISCOVERED_IN_FUTURE)
    incident = SecurityIncident(
        title=texts["zh-CN"]["title"],
        discovered_at=discovered_at,
        data_categories=list(dict.fromkeys(data_categories)),
        texts={language: dict(fields) for language, fields in texts.items()},
        recorded_by=actor_id,
    )
    session.add(incident)
    await session.flush()
    await audit.record(
        session,
        context.keyring,
        action="privacy.incident.recorded",
        actor_id=actor_id,
        object_type="security_incident",
        object_id=incident.id,
        ip=ip,
        detail={"data_categories": incident.data_categories},
    )
    await add_affected(
        session, context, incident, org_ids=org_ids, account_ids=account_ids, actor_id=actor_id, ip=ip
    )
    return incident


async def _existing_org_ids(session: AsyncSession, org_ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(org_ids))
    found = set(await session.scalars(select(Organization.id).where(Organization.id.in_(wanted))))
    missing = [org_id for org_id in wanted if org_id not in found]
    if missing:
        raise AppError(errors.UNKNOWN_ORGANIZATIONS, {"org_ids": missing})
    return wanted


async def _people_to_add(
    session: AsyncSession, incident_orgs: list[str], org_ids: list[str], account_ids: Sequence[str]
) -> dict[str, str]:
    """account id → the organisation they are affected through: everyone in `org_ids`, and each
    listed account through an affected organisation of theirs, else their first one."""
    people: dict[str, str] = {}
    if org_ids:
        rows = await session.execute(
            select(Membership.account_id, Membership.org_id)
            .where(Membership.org_id.in_(org_ids))
            .order_by(Membership.created_at, Membership.id)
        )
        for account_id, org_id in rows.all():
            people.setdefault(account_id, org_id)
    listed = [account_id for account_id in dict.fromkeys(account_ids) if account_id not in people]
    if listed:
        rows = await session.execute(
            select(Membership.account_id, Membership.org_id)
            .where(Membership.account_id.in_(listed))
            .order_by(Membership.created_at, Membership.id)
        )
        memberships: dict[str, list[str]] = {}
        for account_id, org_id in rows.all():
            memberships.setdefault(account_id, []).append(org_id)
        missing = [account_id for account_id in listed if account_id not in memberships]
        if missing:
            raise AppError(errors.UNKNOWN_ACCOUNTS, {"account_ids": missing})
        for account_id in listed:
            theirs = memberships[account_id]
            people[account_id] = next((org for org in theirs if org in incident_orgs), theirs[0])
    return people


async def add_affected(
    session: AsyncSession,
    context: AppContext,
    incident: SecurityIncident,
    *,
    org_ids: Sequence[str],
    account_ids: Sequence[str],
    actor_id: str,
    ip: str,
) -> int:
    """Adds whole organisations (everyone who is a member now) and listed accounts. Returns how
    many people were added; people already affected stay as they are."""
    _open(incident)
    new_orgs = await _existing_org_ids(session, org_ids)
    known_orgs = list(
        await session.scalars(
            select(IncidentOrganization.org_id).where(IncidentOrganization.incident_id == incident.id)
        )
    )
    people = await _people_to_add(session, known_orgs + new_orgs, new_orgs, account_ids)
    already = set(
        await session.scalars(
            select(IncidentPerson.account_id).where(IncidentPerson.incident_id == incident.id)
        )
    )
    added = {account_id: org_id for account_id, org_id in people.items() if account_id not in already}
    session.add_all(
        IncidentPerson(incident_id=incident.id, account_id=account_id, org_id=org_id)
        for account_id, org_id in added.items()
    )
    affected_orgs = [org for org in dict.fromkeys([*new_orgs, *added.values()]) if org not in known_orgs]
    session.add_all(IncidentOrganization(incident_id=incident.id, org_id=org_id) for org_id in affected_orgs)
    await session.flush()
    for org_id in affected_orgs:  # each organisation's own audit trail shows it was affected
        await audit.record(
            session,
            context.keyring,
            action="privacy.incident.organization_affected",
            org_id=org_id,
            actor_id=actor_id,
            object_type="security_incident",
            object_id=incident.id,
            ip=ip,
        )
    await audit.record(
        session,
        context.keyring,
        action="privacy.incident.people_added",
        actor_id=actor_id,
        object_type="security_incident",
        object_id=incident.id,
        ip=ip,
        detail={"people": len(added), "organizations": affected_orgs},
    )
    return len(added)


def notice_texts(incident: SecurityIncident) -> tuple[dict[str, str], dict[str, str]]:
    """(subject, body) in each language the incident is written in: the contents the law asks for."""
    subjects, bodies = {}, {}
    for language, fields in incident.texts.items():
        headings = _HEADINGS[language]
        names = _CATEGORY_NAMES[language]
        data = headings["separator"].join(names[c] for c in incident.data_categories if c in names)
        if fields.get("data_concerned"):
            data = headings["separator"].join(part for part in (data, fields["data_concerned"]) if part)
        colon = headings["colon"]
        lines = [
            f"{headings['what_happened']}{colon}{fields['what_happened']}",
            f"{headings['data']}{colon}{data}",
            f"{headings['possible_impact']}{colon}{fields['possible_impact']}",
            f"{headings['measures_taken']}{colon}{fields['measures_taken']}",
            f"{headings['person_can_do']}{colon}{fields['person_can_do']}",
            f"{headings['contact']}{colon}{fields['contact']}",
        ]
        subjects[language] = headings["subject"].format(title=fields["title"])
        bodies[language] = "\n".join(lines)
    return subjects, bodies


async def _not_yet_reached(session: AsyncSession, incident: SecurityIncident) -> list[IncidentPerson]:
    reference = reference_of(incident.id)
    reached = await notices.reached_accounts(session, reference=reference)
    waiting = await notices.in_flight_accounts(session, reference=reference)
    people = await session.scalars(
        select(IncidentPerson)
        .where(IncidentPerson.incident_id == incident.id)
        .order_by(IncidentPerson.created_at, IncidentPerson.id)
    )
    return [person for person in people if person.account_id not in reached | waiting]


async def notify_affected(
    session: AsyncSession,
    context: AppContext,
    incident: SecurityIncident,
    *,
    channels: Sequence[str],
    actor_id: str,
    ip: str,
) -> int:
    """Sends the incident's notice to everyone affected who has not been reached yet (and has no
    delivery still on its way), each through their organisation. Returns how many people."""
    _open(incident)
    people = await _not_yet_reached(session, incident)
    if not people:
        raise AppError(errors.NOTHING_TO_NOTIFY)
    subject, body = notice_texts(incident)
    by_org: dict[str, list[str]] = {}
    for person in people:
        by_org.setdefault(person.org_id, []).append(person.account_id)
    for org_id, account_ids in by_org.items():
        await notices.notify_people(
            session,
            context,
            account_ids,
            kind=NOTICE_KIND,
            subject=subject,
            body=body,
            channels=channels,
            org_id=org_id,
            reference=reference_of(incident.id),
        )
    await audit.record(
        session,
        context.keyring,
        action="privacy.incident.notified",
        actor_id=actor_id,
        object_type="security_incident",
        object_id=incident.id,
        ip=ip,
        detail={"people": len(people), "channels": sorted({Channel.IN_APP.value, *channels})},
    )
    return len(people)


async def close_incident(
    session: AsyncSession, context: AppContext, incident: SecurityIncident, *, actor_id: str, ip: str
) -> None:
    """Closes the incident once everyone affected was reached through at least one channel."""
    _open(incident)
    progress = await incident_progress(session, incident)
    if progress.not_reached:
        raise AppError(errors.INCIDENT_PEOPLE_NOT_NOTIFIED, {"not_reached": progress.not_reached})
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = utcnow()
    await audit.record(
        session,
        context.keyring,
        action="privacy.incident.closed",
        actor_id=actor_id,
        object_type="security_incident",
        object_id=incident.id,
        ip=ip,
        detail={"people": progress.affected},
    )


@dataclass(frozen=True)
class IncidentProgress:
    organizations: int
    affected: int
    reached: int
    in_flight: int  # deliveries on their way
    not_reached: int
    letters_queued: int
    deliveries: dict[str, dict[str, int]]  # channel → result → count
    deadline_at: datetime
    seconds_left: int  # negative once the deadline has passed
    overdue: bool  # the deadline passed while someone was not reached


async def incident_progress(session: AsyncSession, incident: SecurityIncident) -> IncidentProgress:
    reference = reference_of(incident.id)
    affected_ids = set(
        await session.scalars(
            select(IncidentPerson.account_id).where(IncidentPerson.incident_id == incident.id)
        )
    )
    reached = await notices.reached_accounts(session, reference=reference) & affected_ids
    in_flight = (await notices.in_flight_accounts(session, reference=reference) & affected_ids) - reached
    organizations = await session.scalar(
        select(func.count())
        .select_from(IncidentOrganization)
        .where(IncidentOrganization.incident_id == incident.id)
    )
    deliveries = await notices.delivery_counts(session, reference=reference)
    deadline = deadline_of(incident)
    not_reached = len(affected_ids - reached)
    return IncidentProgress(
        organizations=int(organizations or 0),
        affected=len(affected_ids),
        reached=len(reached),
        in_flight=len(in_flight),
        not_reached=not_reached,
        letters_queued=deliveries.get(Channel.LETTER, {}).get("queued", 0),
        deliveries=deliveries,
        deadline_at=deadline,
        seconds_left=int((deadline - utcnow()).total_seconds()),
        overdue=not_reached > 0 and utcnow() > deadline and incident.status == IncidentStatus.OPEN,
    )


async def affected_organizations(
    session: AsyncSession, incident: SecurityIncident
) -> list[tuple[str, str, int]]:
    """(org id, name, people affected there) for each affected organisation."""
    counts = (
        select(IncidentPerson.org_id, func.count().label("people"))
        .where(IncidentPerson.incident_id == incident.id)
        .group_by(IncidentPerson.org_id)
        .subquery()
    )
    rows = await session.execute(
        select(Organization.id, Organization.name, func.coalesce(counts.c.people, 0))
        .join(IncidentOrganization, IncidentOrganization.org_id == Organization.id)
        .outerjoin(counts, counts.c.org_id == Organization.id)
        .where(IncidentOrganization.incident_id == incident.id)
        .order_by(Organization.name)
    )
    return [(org_id, name, int(people)) for org_id, name, people in rows.all()]
