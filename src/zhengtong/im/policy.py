"""The organisation's chat policy, kept under "im" in the organisation's settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zhengtong.org.models import Organization


class ReadReceipts(StrEnum):
    ON = "on"  # everyone's reading is visible to senders (DingTalk)
    OPT_OUT = "opt_out"  # on, but each person may hide their own (Zulip)
    OFF = "off"


@dataclass(frozen=True)
class ChatPolicy:
    read_receipts: ReadReceipts = ReadReceipts.ON
    recall_window_minutes: int = 24 * 60
    max_group_members: int = 1000
    max_text_chars: int = 5000

    @classmethod
    def of(cls, organization: Organization) -> ChatPolicy:
        values: dict[str, Any] = (organization.settings or {}).get("im", {})
        return cls(
            read_receipts=ReadReceipts(values.get("read_receipts", ReadReceipts.ON)),
            recall_window_minutes=int(values.get("recall_window_minutes", cls.recall_window_minutes)),
            max_group_members=int(values.get("max_group_members", cls.max_group_members)),
        )

    def as_settings(self) -> dict[str, Any]:
        return {
            "read_receipts": self.read_receipts.value,
            "recall_window_minutes": self.recall_window_minutes,
            "max_group_members": self.max_group_members,
        }
