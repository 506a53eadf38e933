"""Jobs over HTTP: the owner follows progress and cancels; nobody else can see or touch the job."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from helpers import Member, create_member, csrf_headers, login
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext, JobRunner, JobStatus

MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No runner in the app: each test runs jobs itself, at the moment it chooses."""
    return settings.with_overrides(run_jobs_in_process=False)


@pytest.fixture(autouse=True)
def _empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "_HANDLERS", {})
    monkeypatch.setattr(jobs, "_SCHEDULES", {})


@pytest.fixture
async def owner(context: AppContext) -> Member:
    return await create_member(context, org_name="市数据局", name="王芳")


async def _enqueue_for(context: AppContext, member: Member, kind: str = "export") -> str:
    async with context.db.transaction() as session:
        job = await jobs.enqueue(
            session, kind=kind, payload={}, org_id=member.org_id, owner_account_id=member.account_id
        )
        return job.id


async def _status_in_database(context: AppContext, job_id: str) -> str:
    async with context.db.transaction() as session:
        job = await jobs.get_job(session, job_id)
        assert job is not None
        return job.status


async def test_owner_follows_progress_until_the_result(
    client: httpx.AsyncClient, context: AppContext, owner: Member
) -> None:
    reported = asyncio.Event()
    may_finish = asyncio.Event()

    @jobs.register("export")
    async def export(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        await job.report_progress(30, 120, "正在导出通讯录")
        reported.set()
        await may_finish.wait()
        return {"file": "exports/directory.xlsx"}

    job_id = await _enqueue_for(context, owner)
    await login(client, context, owner.mobile)
    running = asyncio.create_task(JobRunner(context).run_until_idle())
    await asyncio.wait_for(reported.wait(), timeout=5)

    during = await client.get(f"/api/v1/jobs/{job_id}")

    assert during.status_code == 200, during.text
    body = during.json()
    assert body["status"] == "running"
    assert body["progress"] == {"done": 30, "total": 120, "percent": 25, "message": "正在导出通讯录"}
    assert body["result"] is None
    assert body["finished_at"] is None

    may_finish.set()
    await asyncio.wait_for(running, timeout=5)
    after = (await client.get(f"/api/v1/jobs/{job_id}")).json()
    assert after["status"] == "succeeded"
    assert after["result"] == {"file": "exports/directory.xlsx"}
    assert after["attempts"] == 1
    assert after["error"] is None
    assert after["finished_at"] is not None
    assert set(after) == {
        "id", "kind", "status", "attempts", "progress", "result", "error", "created_at", "finished_at"
    }  # fmt: skip


async def test_owner_cancels_a_queued_job(
    client: httpx.AsyncClient, context: AppContext, owner: Member
) -> None:
    job_id = await _enqueue_for(context, owner)
    await login(client, context, owner.mobile)

    answer = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=csrf_headers(client))

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert await _status_in_database(context, job_id) == JobStatus.CANCELLED


async def test_cancelling_a_finished_job_is_refused(
    client: httpx.AsyncClient, context: AppContext, owner: Member
) -> None:
    @jobs.register("export")
    async def export(job: JobContext, payload: dict[str, Any]) -> None:
        return None

    job_id = await _enqueue_for(context, owner)
    await JobRunner(context).run_until_idle()
    await login(client, context, owner.mobile)

    answer = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=csrf_headers(client))

    assert answer.status_code == 409
    assert answer.json()["code"] == "jobs.already_finished"
    assert await _status_in_database(context, job_id) == JobStatus.SUCCEEDED


@pytest.mark.parametrize("org_name", ["市数据局", "区财政局"], ids=["same-org", "other-org"])
async def test_other_accounts_get_not_found_and_cannot_cancel(
    make_client: MakeClient, context: AppContext, owner: Member, org_name: str
) -> None:
    job_id = await _enqueue_for(context, owner)
    stranger = await create_member(context, org_name=org_name, name="李四")
    http = make_client()
    await login(http, context, stranger.mobile)

    seen = await http.get(f"/api/v1/jobs/{job_id}")
    cancelled = await http.post(f"/api/v1/jobs/{job_id}/cancel", headers=csrf_headers(http))
    missing = await http.get("/api/v1/jobs/01JNOSUCHJOB0000000000000")

    for answer in (seen, cancelled, missing):
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
    assert seen.json() == missing.json()  # a stranger cannot tell a real id from a made-up one
    assert await _status_in_database(context, job_id) == JobStatus.QUEUED


async def test_anonymous_caller_must_log_in(
    client: httpx.AsyncClient, context: AppContext, owner: Member
) -> None:
    job_id = await _enqueue_for(context, owner)

    answer = await client.get(f"/api/v1/jobs/{job_id}")

    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.required"
