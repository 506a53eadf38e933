"""`zhengtong privacy policy …`: the operator publishes and lists privacy policy versions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from zhengtong.core.config import Settings
from zhengtong.core.context import build_context
from zhengtong.privacy.consent import policy


async def _publish(
    settings: Settings, kind: str, text_zh: str, text_en: str, summary_zh: str, summary_en: str
) -> int:
    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            published = await policy.publish(
                session,
                context,
                kind=kind,
                text_zh=text_zh,
                text_en=text_en,
                summary_zh=summary_zh,
                summary_en=summary_en,
                actor_id=None,
                ip="cli",
            )
            return published.version
    finally:
        await context.close()


def publish_from_files(
    settings: Settings, *, kind: str, zh: Path, en: Path, summary_zh: str, summary_en: str
) -> int:
    """Publishes the texts of two UTF-8 files as the next version; returns its number."""
    text_zh, text_en = zh.read_text("utf-8"), en.read_text("utf-8")
    return asyncio.run(_publish(settings, kind, text_zh, text_en, summary_zh, summary_en))


async def _list(settings: Settings) -> list[str]:
    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            return [
                f"{item.version}\t{item.kind}\t{item.published_at:%Y-%m-%d %H:%M} UTC\t{item.summary_zh}"
                for item in await policy.list_versions(session)
            ]
    finally:
        await context.close()


def list_lines(settings: Settings) -> list[str]:
    """One line per version, newest first: number, kind, publication time, summary."""
    return asyncio.run(_list(settings))
