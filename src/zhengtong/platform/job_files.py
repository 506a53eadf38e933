"""Signed, expiring download links for files that jobs produce (the person's "my data" export,
the organisation's archive): one shape of link, one check.

A link is `{path}?expires=<unix seconds>&signature=<hex>`, the signature a keyed digest (under a key
of the link's own purpose) of the job, whom the file is for and the expiry, so a link can neither be
stretched nor moved to another job or person. The job's result says when its file expires
(`expires_at`) and whether a sweep has removed it (`files_removed`)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.platform.jobs import Job, JobStatus


@dataclass(frozen=True)
class JobFile:
    """A job's file as it is handed out: its bytes and the name the browser saves it under."""

    content: bytes
    filename: str


def expires_at(job: Job) -> datetime | None:
    value = (job.result or {}).get("expires_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def files_removed(job: Job) -> bool:
    return bool((job.result or {}).get("files_removed"))


def _signature(context: AppContext, purpose: str, job_id: str, holder: str, expires: int) -> str:
    message = f"{job_id}\x00{holder}\x00{expires}".encode()
    return context.keyring.keyed_digest(purpose, message).hex()


def signed_link(context: AppContext, job: Job, *, purpose: str, holder: str, path: str) -> str | None:
    """The link to a finished job's file for `holder` (an account or an organisation), or None
    when the job has not succeeded, its file expired or was removed."""
    expiry = expires_at(job)
    if job.status != JobStatus.SUCCEEDED or expiry is None or files_removed(job) or expiry <= utcnow():
        return None
    expires = int(expiry.timestamp())
    return f"{path}?expires={expires}&signature={_signature(context, purpose, job.id, holder, expires)}"


def signature_matches(
    context: AppContext, *, purpose: str, job_id: str, holder: str, expires: int, signature: str
) -> bool:
    return hmac.compare_digest(_signature(context, purpose, job_id, holder, expires), signature)


def link_expired(job: Job, expires: int) -> bool:
    return expires <= int(utcnow().timestamp()) or files_removed(job)
