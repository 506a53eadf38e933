"""The error catalogue: every code that any domain registers is well formed and translated."""

from __future__ import annotations

import re

import pytest

from zhengtong.app import domain_routers
from zhengtong.core import errors
from zhengtong.core.errors import ErrorCode, all_error_codes

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def registered_codes() -> list[ErrorCode]:
    domain_routers()  # imports every domain, and with it every domain's error codes
    return sorted(all_error_codes().values(), key=lambda declared: declared.code)


def test_domains_register_codes_next_to_the_shared_ones() -> None:
    shared = {value.code for value in vars(errors).values() if isinstance(value, ErrorCode)}

    codes = {declared.code for declared in registered_codes()}

    assert shared < codes


@pytest.mark.parametrize("declared", registered_codes(), ids=lambda declared: declared.code)
def test_code_is_well_formed_and_translated(declared: ErrorCode) -> None:
    assert CODE_PATTERN.fullmatch(declared.code), "codes are dotted lowercase: area.what_happened"
    assert 400 <= declared.status <= 599
    assert declared.zh.strip() and CHINESE.search(declared.zh), "the zh-CN message is in Chinese"
    assert declared.en.strip() and not CHINESE.search(declared.en), "the English message is in English"
    assert declared.message("zh") == declared.zh
    assert declared.message("en") == declared.en


def test_chinese_messages_are_clean_text() -> None:
    """No mojibake (UTF-8 read as Latin-1) and full-width punctuation in Chinese."""
    for code in all_error_codes().values():
        assert not any("\u0080" <= char <= "\u00ff" for char in code.zh), code.code
        assert "," not in code.zh, f"{code.code}: use the full-width comma (，) in Chinese"
