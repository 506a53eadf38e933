"""Background work that lives as long as a server process: the in-process job runner."""

from __future__ import annotations

import asyncio

from zhengtong.core.context import AppContext


async def start_background(context: AppContext) -> None:
    """Starts what the settings ask this process to run next to the API."""
    from zhengtong.privacy.scan.residency import check_at_start

    check_at_start(context.settings)  # residency and retention: refuse to start, naming the setting
    from zhengtong.im.content import load_word_dictionary

    # Before the process reports ready: otherwise the first chat message waits seconds for it.
    await asyncio.to_thread(load_word_dictionary)
    from zhengtong.org.keys import reconcile

    await reconcile(context)
    if context.settings.run_jobs_in_process:
        from zhengtong.platform.jobs import JobRunner

        runner = JobRunner(context)
        await runner.start()
        context.extras["job_runner"] = runner


async def stop_background(context: AppContext) -> None:
    """Stops it again, letting running work finish its current step."""
    runner = context.extras.pop("job_runner", None)
    if runner is not None:
        await runner.stop()
