"""Sealing message content with the organisation's data key, and the keyed word index.

Content is JSON sealed with the organisation's key and bound (AAD) to the message id, so a sealed
value copied onto another row does not open. Search words are cut with jieba (full mode for
search, so that 会议室 also indexes 会议) and stored as keyed hashes under the same key: once the
organisation's key is destroyed, neither the content nor the index means anything.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import jieba
import orjson

from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.org.models import Organization

jieba.setLogLevel(logging.WARNING)

_SEARCH_PURPOSE = "im-search"
_WORD = re.compile(r"\w", re.UNICODE)
MAX_TOKENS_PER_MESSAGE = 500


def org_cipher(context: AppContext, organization: Organization) -> FieldCipher:
    return context.keyring.org_cipher(organization.id, organization.data_key_wrapped)


def seal(cipher: FieldCipher, message_id: str, content: dict[str, Any]) -> bytes:
    return cipher.encrypt(orjson.dumps(content), aad=b"im-message:" + message_id.encode())


def unseal(cipher: FieldCipher, message_id: str, sealed: bytes) -> dict[str, Any]:
    opened: dict[str, Any] = orjson.loads(cipher.decrypt(sealed, aad=b"im-message:" + message_id.encode()))
    return opened


def seal_text(cipher: FieldCipher, purpose: str, object_id: str, text: str) -> bytes:
    return cipher.encrypt_text(text, aad=f"{purpose}:{object_id}".encode())


def unseal_text(cipher: FieldCipher, purpose: str, object_id: str, sealed: bytes) -> str:
    return cipher.decrypt_text(sealed, aad=f"{purpose}:{object_id}".encode())


def load_word_dictionary() -> None:
    """Loads jieba's dictionary (about a second), which it otherwise does on first use."""
    jieba.initialize()


def words(text: str) -> set[str]:
    """The words of `text` for the index: jieba's search-mode cut, lower-cased, plus every single
    Chinese character, so one-character queries (审, 云) find their messages too."""
    found: set[str] = set()
    for word in jieba.cut_for_search(text.lower()):
        word = word.strip()
        if word and _WORD.search(word):
            found.add(word)
            if len(word) > 1 and not word.isascii():
                found.update(char for char in word if _WORD.match(char))
    return found


def query_words(query: str) -> set[str]:
    """The words a query must all match: jieba's precise cut (so 会议室 asks for 会议室)."""
    return {word for word in (w.strip() for w in jieba.cut(query.lower())) if word and _WORD.search(word)}


def token_hashes(cipher: FieldCipher, found: Iterable[str]) -> list[bytes]:
    return [cipher.keyed_hash(_SEARCH_PURPOSE, word.encode()) for word in sorted(found)][
        :MAX_TOKENS_PER_MESSAGE
    ]


def searchable_text(content: dict[str, Any]) -> str:
    parts = [str(content.get("text", ""))]
    attachment = content.get("attachment")
    if isinstance(attachment, dict):
        parts.append(str(attachment.get("name", "")))
    robot = content.get("robot")
    if isinstance(robot, dict):
        parts.extend(_robot_words(robot))
    return " ".join(part for part in parts if part)


def _robot_words(card: dict[str, Any]) -> list[str]:
    """What a robot's card says: its title and text, and the titles of its buttons and links."""
    titled = [*card.get("buttons", []), *card.get("links", [])]
    titles = [str(item.get("title", "")) for item in titled]
    return [str(card.get("title", "")), str(card.get("text", "")), *titles]
