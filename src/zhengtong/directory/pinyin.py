"""Pinyin forms of Chinese names for search: 张三 → "zhangsan" and "zs"."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def syllables(text: str) -> list[str]:
    """Toneless pinyin syllables, lower case; characters without pinyin pass through."""
    return [
        syllable.lower() for syllable in lazy_pinyin(text, style=Style.NORMAL, errors="default") if syllable
    ]


def full_pinyin(text: str) -> str:
    return "".join(syllables(text)).replace(" ", "")


def initials(text: str) -> str:
    return "".join(syllable[0] for syllable in syllables(text) if syllable.strip())
