"""HTTP endpoints of privacy.consent: thin handlers that parse, call one service function and answer.

Reading the policy and the cookie list is public (the login page links to them). Everything under
/privacy/policy is let through the policy gate (privacy.consent.gate); the rest is gated.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Response

from zhengtong.core.caller import Caller
from zhengtong.org.access import AdminScope, admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.privacy.consent import consents, contact_matching, cookies, minors, notices, policy, schemas
from zhengtong.privacy.consent.models import AckChannel, PolicyAcknowledgement, PolicyVersion
from zhengtong.privacy.consent.purposes import Purpose
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["privacy"])


def _brief(version: PolicyVersion | None) -> schemas.PolicyVersionBrief | None:
    return schemas.PolicyVersionBrief.model_validate(version) if version is not None else None


# The policy ----------------------------------------------------------------------------------
@open_through(Gate.POLICY)
@router.get("/privacy/policy/current", response_model=schemas.PolicyVersionOut)
async def read_current_policy(session: DbSession) -> schemas.PolicyVersionOut:
    return schemas.PolicyVersionOut.model_validate(await policy.current_version(session))


@open_through(Gate.POLICY)
@router.get("/privacy/policy/versions/{version}", response_model=schemas.PolicyVersionOut)
async def read_policy_version(version: int, session: DbSession) -> schemas.PolicyVersionOut:
    return schemas.PolicyVersionOut.model_validate(await policy.get_version(session, version))


async def _status_out(session: DbSession, caller: Caller) -> schemas.PolicyStatusOut:
    status = await policy.status_of(session, caller.account_id)
    return schemas.PolicyStatusOut(
        current=_brief(status.current),
        acknowledged_version=status.acknowledged,
        required=_brief(status.required),
        notice=_brief(status.notice),
    )


@open_through(Gate.POLICY)
@router.get("/privacy/policy/status", response_model=schemas.PolicyStatusOut)
async def read_policy_status(caller: CurrentCaller, session: DbSession) -> schemas.PolicyStatusOut:
    return await _status_out(session, caller)


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.post("/privacy/policy/acknowledge", response_model=schemas.PolicyStatusOut)
async def acknowledge_policy(
    body: schemas.AcknowledgeIn, caller: CurrentCaller, session: DbSession
) -> schemas.PolicyStatusOut:
    channel = AckChannel.WEB if caller.via_cookie else AckChannel.API
    await policy.acknowledge(session, account_id=caller.account_id, version=body.version, channel=channel)
    return await _status_out(session, caller)


def _acknowledgement_out(acknowledgement: PolicyAcknowledgement, kind: str) -> schemas.AcknowledgementOut:
    return schemas.AcknowledgementOut.model_validate(
        {
            "version": acknowledgement.version,
            "kind": kind,
            "channel": acknowledgement.channel,
            "acknowledged_at": acknowledgement.acknowledged_at,
        }
    )


@open_through(Gate.POLICY)
@router.get("/privacy/policy/acknowledgements", response_model=list[schemas.AcknowledgementOut])
async def list_acknowledgements(
    caller: CurrentCaller, session: DbSession
) -> list[schemas.AcknowledgementOut]:
    kinds = {version.version: version.kind for version in await policy.list_versions(session)}
    return [
        _acknowledgement_out(item, kinds[item.version])
        for item in await policy.acknowledgements_of(session, caller.account_id)
    ]


# The operator publishes ------------------------------------------------------------------------
@router.get(
    "/operator/privacy/policy-versions", response_model=list[schemas.PolicyVersionBrief], tags=["operator"]
)
async def list_policy_versions(caller: CurrentCaller, session: DbSession) -> list[schemas.PolicyVersionBrief]:
    await policy.require_operator(session, caller.account_id)
    return [schemas.PolicyVersionBrief.model_validate(item) for item in await policy.list_versions(session)]


@open_through(Gate.COLLECTION)
@router.post(
    "/operator/privacy/policy-versions",
    response_model=schemas.PolicyVersionOut,
    status_code=201,
    tags=["operator"],
)
async def publish_policy_version(
    body: schemas.PolicyPublishIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.PolicyVersionOut:
    await policy.require_operator(session, caller.account_id)
    published = await policy.publish(
        session,
        context,
        kind=body.kind,
        text_zh=body.text_zh,
        text_en=body.text_en,
        summary_zh=body.summary_zh,
        summary_en=body.summary_en,
        actor_id=caller.account_id,
        ip=ip,
    )
    return schemas.PolicyVersionOut.model_validate(published)


# Cookies -------------------------------------------------------------------------------------
@router.get("/privacy/cookies", response_model=list[schemas.StoredItemOut])
async def list_cookies() -> list[schemas.StoredItemOut]:
    return [schemas.StoredItemOut.model_validate(item) for item in cookies.BROWSER_ITEMS]


# The first-login notice ----------------------------------------------------------------------
@router.get("/privacy/notices/first-login", response_model=list[schemas.DataNoticeOut])
async def read_first_login_notice(
    caller: CurrentCaller, session: DbSession, context: Context
) -> list[schemas.DataNoticeOut]:
    return [
        schemas.DataNoticeOut.model_validate(notice)
        for notice in await notices.pending(session, context, caller)
    ]


@open_through(Gate.COLLECTION)
@router.post("/privacy/notices/first-login/seen", status_code=204)
async def mark_first_login_notice_seen(
    body: schemas.DataNoticeSeenIn, caller: CurrentCaller, session: DbSession
) -> Response:
    await notices.mark_seen(session, caller, body.membership_ids)
    return Response(status_code=204)


# Separate consents ---------------------------------------------------------------------------
def _purpose_out(purpose: Purpose, state: consents.PurposeState | None) -> schemas.PurposeOut:
    consent = state.consent if state else None
    return schemas.PurposeOut(
        key=purpose.key,
        offered=purpose.offered,
        title_zh=purpose.title_zh,
        title_en=purpose.title_en,
        description_zh=purpose.description_zh,
        description_en=purpose.description_en,
        on_withdraw_zh=purpose.on_withdraw_zh,
        on_withdraw_en=purpose.on_withdraw_en,
        granted=consent is not None,
        granted_at=consent.granted_at if consent else None,
    )


@router.get("/privacy/consents", response_model=list[schemas.PurposeOut])
async def list_consents(caller: CurrentCaller, session: DbSession) -> list[schemas.PurposeOut]:
    return [_purpose_out(state.purpose, state) for state in await consents.states(session, caller)]


@router.get("/privacy/consents/history", response_model=list[schemas.ConsentRecordOut])
async def consent_history(caller: CurrentCaller, session: DbSession) -> list[schemas.ConsentRecordOut]:
    return [
        schemas.ConsentRecordOut.model_validate(record) for record in await consents.history(session, caller)
    ]


@router.put("/privacy/consents/{purpose}", response_model=schemas.ConsentRecordOut)
async def grant_consent(
    purpose: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ConsentRecordOut:
    record = await consents.grant(session, context, caller, purpose_key=purpose, ip=ip)
    return schemas.ConsentRecordOut.model_validate(record)


@router.delete("/privacy/consents/{purpose}", response_model=schemas.ConsentRecordOut | None)
async def withdraw_consent(
    purpose: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ConsentRecordOut | None:
    """Withdraws the consent and deletes the data that depended on it; null when none stood."""
    record = await consents.withdraw(session, context, caller, purpose_key=purpose, ip=ip)
    return schemas.ConsentRecordOut.model_validate(record) if record else None


# Contact matching ----------------------------------------------------------------------------
@router.get("/privacy/contact-matching/key", response_model=schemas.ContactKeyOut)
async def contact_matching_key(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ContactKeyOut:
    key = await contact_matching.matching_key(session, context, caller)
    return schemas.ContactKeyOut(
        algorithm="HMAC-SHA256", key=base64.b64encode(key).decode(), number_format="E.164"
    )


def _matches_out(matches: list[contact_matching.ContactMatch], stored: int) -> schemas.ContactMatchesOut:
    return schemas.ContactMatchesOut(
        stored=stored,
        matches=[
            schemas.ContactMatchOut(
                membership_id=match.membership_id, name=match.name, hash=match.contact_hash.hex()
            )
            for match in matches
        ],
    )


@router.put("/privacy/contact-matching/contacts", response_model=schemas.ContactMatchesOut)
async def upload_contacts(
    body: schemas.ContactHashesIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ContactMatchesOut:
    hashes = contact_matching.parse_hashes(body.hashes)
    matches = await contact_matching.upload_contacts(session, context, caller, hashes=hashes)
    return _matches_out(matches, len(hashes))


@router.get("/privacy/contact-matching/matches", response_model=schemas.ContactMatchesOut)
async def contact_matches(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ContactMatchesOut:
    matches, stored = await contact_matching.current_matches(session, context, caller)
    return _matches_out(matches, stored)


# Minors (the organisation's admins) ----------------------------------------------------------
def _minor_out(status: minors.MinorStatus) -> schemas.MinorStatusOut:
    return schemas.MinorStatusOut.model_validate(status)


async def _members_scope(session: DbSession, caller: Caller) -> AdminScope:
    return await admin_scope(session, caller, AdminDuty.SYSTEM, "members")


@router.get("/privacy/members/{membership_id}/minor", response_model=schemas.MinorStatusOut)
async def read_minor_status(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MinorStatusOut:
    scope = await _members_scope(session, caller)
    return _minor_out(await minors.minor_status(session, context, scope, membership_id=membership_id))


@router.put("/privacy/members/{membership_id}/minor", response_model=schemas.MinorStatusOut)
async def record_birth_date(
    membership_id: str,
    body: schemas.BirthDateIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.MinorStatusOut:
    scope = await _members_scope(session, caller)
    status = await minors.record_birth_date(
        session,
        context,
        scope,
        membership_id=membership_id,
        birth_date=body.birth_date,
        actor_id=caller.account_id,
        ip=ip,
    )
    return _minor_out(status)


@router.delete("/privacy/members/{membership_id}/minor", status_code=204)
async def remove_birth_date(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    scope = await _members_scope(session, caller)
    await minors.remove_birth_date(
        session, context, scope, membership_id=membership_id, actor_id=caller.account_id, ip=ip
    )
    return Response(status_code=204)


@router.post(
    "/privacy/members/{membership_id}/guardian-consents",
    response_model=schemas.MinorStatusOut,
    status_code=201,
)
async def record_guardian_consent(
    membership_id: str,
    body: schemas.GuardianConsentIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.MinorStatusOut:
    scope = await _members_scope(session, caller)
    status = await minors.record_guardian_consent(
        session,
        context,
        scope,
        membership_id=membership_id,
        guardian_name=body.guardian_name,
        relation=body.relation,
        guardian_contact=body.guardian_contact,
        evidence_note=body.evidence_note,
        actor_id=caller.account_id,
        ip=ip,
    )
    return _minor_out(status)


@router.delete(
    "/privacy/members/{membership_id}/guardian-consents/current", response_model=schemas.MinorStatusOut
)
async def withdraw_guardian_consent(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.MinorStatusOut:
    scope = await _members_scope(session, caller)
    status = await minors.withdraw_guardian_consent(
        session, context, scope, membership_id=membership_id, actor_id=caller.account_id, ip=ip
    )
    return _minor_out(status)
