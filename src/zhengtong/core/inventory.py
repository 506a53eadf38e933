"""The personal-data inventory: every column of every table says what kind of data it holds and
what happens to it when the person or the organisation leaves.

A column declares itself with ``info=personal(...)`` or ``info=NOT_PERSONAL``; a test walks the
metadata and fails on any column that does not. The privacy machinery (export, removal,
deregistration, the scan) reads the same declarations, so nothing is kept in a second list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

INFO_KEY = "personal_data"


class DataClass(StrEnum):
    IDENTITY = "identity"  # who the person is: name, account reference, job number
    CONTACT = "contact"  # how to reach them: mobile, e-mail, office phone
    SENSITIVE = "sensitive"  # 个人敏感信息: mobile in clear, ID number, credentials (encrypted at rest)
    BIOMETRIC = "biometric"
    LOCATION = "location"  # GPS, IP address, Wi-Fi
    BUSINESS = "business"  # 业务数据: content created at work, owned by the organisation
    NONE = "none"  # ids, timestamps, flags that say nothing about a person on their own


class Action(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    RETAIN = "retain"  # kept for `days` under `legal_basis`, then deleted
    # The organisation's business record (messages a person wrote at work): it stays when the
    # person leaves, with the author shown as a removed member, and goes with the organisation.
    ORGANISATION_RECORD = "organisation_record"
    NONE = "none"  # not personal data: follows its row


@dataclass(frozen=True)
class Lifecycle:
    action: Action
    days: int = 0
    legal_basis: str = ""

    def __post_init__(self) -> None:
        if self.action is Action.RETAIN and (self.days <= 0 or not self.legal_basis):
            raise ValueError("retention needs a number of days and a legal basis")


DELETE = Lifecycle(Action.DELETE)
ANONYMISE = Lifecycle(Action.ANONYMISE)
ORGANISATION_RECORD = Lifecycle(Action.ORGANISATION_RECORD)


def retain(days: int, legal_basis: str) -> Lifecycle:
    return Lifecycle(Action.RETAIN, days, legal_basis)


@dataclass(frozen=True)
class PersonalData:
    data_class: DataClass
    lifecycle: Lifecycle
    encrypted: bool = False  # the column holds ciphertext (field encryption)
    note: str = ""

    def __post_init__(self) -> None:
        if self.data_class is DataClass.NONE and self.lifecycle.action is not Action.NONE:
            raise ValueError("a column without personal data has no lifecycle of its own")
        if self.data_class is not DataClass.NONE and self.lifecycle.action is Action.NONE:
            raise ValueError("personal data needs a lifecycle: delete, anonymise or retain")
        if self.data_class in (DataClass.SENSITIVE, DataClass.BIOMETRIC) and not self.encrypted:
            raise ValueError("sensitive and biometric data must be encrypted at rest")


def personal(
    data_class: DataClass, lifecycle: Lifecycle, *, encrypted: bool = False, note: str = ""
) -> dict[str, Any]:
    """Column ``info`` for a column that holds personal data."""
    return {INFO_KEY: PersonalData(data_class, lifecycle, encrypted, note)}


NOT_PERSONAL: dict[str, Any] = {INFO_KEY: PersonalData(DataClass.NONE, Lifecycle(Action.NONE))}


def declaration_of(column: Any) -> PersonalData | None:
    """The declaration of a SQLAlchemy column, or None when it has none."""
    value = column.info.get(INFO_KEY)
    return value if isinstance(value, PersonalData) else None


def undeclared_columns(metadata: Any) -> list[str]:
    """Every column of `metadata` (a SQLAlchemy MetaData) that has no declaration, as "table.column"."""
    return [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if declaration_of(column) is None
    ]
