"""What the platform holds about one person, read from the schema and the personal-data inventory.

The tables come from `privacy.subjects` (every column that references the person's account or one
of their memberships), plus the rows found by the keyed index of their mobile number and the audit
entries of their own actions. No table is listed here by hand: a new table that points at a person
is in their export and in their summary the day it is added.

A row reached through a link with ON DELETE CASCADE is the person's own: every column is theirs.
A row reached only through a SET NULL link belongs to the organisation or to someone else and only
names the person (a message they wrote, a member they manage): of its personal columns the person
gets the business content (their words, the names of files they uploaded), never another
person's identity or contact data.

Encrypted columns are opened where the platform can (`DECRYPTORS`); keyed hashes cannot be turned
back into values and say so; credentials never leave the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import KeyedColumnElement

from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError, FieldCipher
from zhengtong.core.inventory import Action, DataClass, PersonalData, declaration_of
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.im import content as sealing
from zhengtong.org.models import Membership, Organization
from zhengtong.privacy.consent import minors
from zhengtong.privacy.subjects import MOBILE_INDEX_COLUMN, SUBJECT_TABLES, SubjectKind, subject_links

Column = KeyedColumnElement[Any]

# Columns that hold an account id without a foreign key (the audit trail outlives the account).
ACCOUNT_ID_COLUMNS = (("audit_log", "actor_account_id"),)


@dataclass(frozen=True)
class Person:
    account_id: str
    memberships: Mapping[str, str]  # membership id → organisation id
    mobile: str  # E.164, decrypted
    mobile_index: bytes

    @property
    def membership_ids(self) -> list[str]:
        return list(self.memberships)

    def ids_for(self, kind: SubjectKind) -> list[str]:
        return [self.account_id] if kind is SubjectKind.ACCOUNT else self.membership_ids


async def load_person(session: AsyncSession, context: AppContext, account_id: str) -> Person:
    account = await session.get(Account, account_id)
    if account is None:
        raise LookupError(f"no account {account_id}")
    memberships = await session.execute(
        select(Membership.id, Membership.org_id).where(Membership.account_id == account_id)
    )
    return Person(
        account_id=account.id,
        memberships={membership_id: org_id for membership_id, org_id in memberships.all()},
        mobile=identity.decrypt_mobile(context.keyring, account),
        mobile_index=account.mobile_index,
    )


# Tables ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonTable:
    """A table that holds rows about people, and the columns that say which rows."""

    table: Table
    identified_by_id: SubjectKind | None = None  # accounts / memberships: the row *is* the person
    owning: tuple[tuple[Column, SubjectKind], ...] = ()
    mentioning: tuple[tuple[Column, SubjectKind], ...] = ()
    mobile_index: Column | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def linked_by(self) -> list[str]:
        names = [column.name for column, _ in (*self.owning, *self.mentioning)]
        if self.identified_by_id is not None:
            names.insert(0, "id")
        if self.mobile_index is not None:
            names.append(self.mobile_index.name)
        return names

    def owned(self, person: Person) -> ColumnElement[bool]:
        """Rows that are the person's own."""
        conditions: list[ColumnElement[bool]] = [
            column.in_(person.ids_for(kind)) for column, kind in self.owning
        ]
        if self.identified_by_id is not None:
            conditions.append(self.table.c.id.in_(person.ids_for(self.identified_by_id)))
        if self.mobile_index is not None:
            conditions.append(self.mobile_index == person.mobile_index)
        return or_(false(), *conditions)

    def mentioned(self, person: Person) -> ColumnElement[bool]:
        """Rows of others that name the person."""
        return or_(false(), *(column.in_(person.ids_for(kind)) for column, kind in self.mentioning))

    def any_row(self, person: Person) -> ColumnElement[bool]:
        return or_(self.owned(person), self.mentioned(person))


def person_tables(metadata: MetaData) -> list[PersonTable]:
    """Every table with rows about a person, in the metadata's dependency order."""
    owning: dict[str, list[tuple[Column, SubjectKind]]] = {}
    mentioning: dict[str, list[tuple[Column, SubjectKind]]] = {}
    for link in subject_links(metadata):
        target = owning if link.owns_row else mentioning
        target.setdefault(link.table.name, []).append((link.table.c[link.column.name], link.kind))
    for table_name, column_name in ACCOUNT_ID_COLUMNS:
        if table_name in metadata.tables:
            column = metadata.tables[table_name].c[column_name]
            owning.setdefault(table_name, []).append((column, SubjectKind.ACCOUNT))
    found = []
    for table in metadata.sorted_tables:
        identified_by_id = SUBJECT_TABLES.get(table.name)
        mobile_index = _mobile_index_column(table) if identified_by_id is None else None
        # A subject table's other links name someone else (memberships.manager_id): not this person's row.
        table_owning = owning.get(table.name, []) if identified_by_id is None else []
        table_mentioning = mentioning.get(table.name, []) if identified_by_id is None else []
        if identified_by_id is None and not (table_owning or table_mentioning or mobile_index is not None):
            continue
        if identified_by_id is SubjectKind.MEMBERSHIP:
            table_owning = []  # memberships.account_id finds the same rows as their ids
        found.append(
            PersonTable(table, identified_by_id, tuple(table_owning), tuple(table_mentioning), mobile_index)
        )
    return found


def _mobile_index_column(table: Table) -> Column | None:
    column = table.c.get(MOBILE_INDEX_COLUMN)
    if column is None:
        return None
    declared = declaration_of(column)
    return column if declared is not None and declared.data_class is not DataClass.NONE else None


# Columns --------------------------------------------------------------------------------------
class Treatment(StrEnum):
    """How the export gives a column's values."""

    CLEAR = "clear"  # personal data stored in clear
    DECRYPTED = "decrypted"  # stored encrypted, opened for the export
    ONE_WAY = "one_way"  # a keyed hash or blind index: it cannot be turned back into the value
    WITHHELD = "withheld"  # a credential: it never leaves the platform
    NOT_PERSONAL = "not_personal"  # ids, times, flags
    OMITTED = "omitted"  # a binary technical value that says nothing about the person
    UNREADABLE = "unreadable"  # encrypted, and the export does not know how to open it (a bug)


@dataclass(frozen=True)
class Opener:
    """What a decryptor needs: the platform's keys, the person and their organisations."""

    context: AppContext
    person: Person
    organizations: Mapping[str, Organization]

    def org_cipher(self, org_id: str) -> FieldCipher:
        organization = self.organizations.get(org_id)
        if organization is None:
            raise CryptoError("the organisation is not one of the person's")
        return sealing.org_cipher(self.context, organization)


Decryptor = Callable[[Opener, RowMapping, bytes], Any]


def _own_mobile(opener: Opener, row: RowMapping, value: bytes) -> str:
    # The account's own number, or a row found by the blind index of that very number.
    return opener.person.mobile


def _message_content(opener: Opener, row: RowMapping, value: bytes) -> Any:
    return sealing.unseal(opener.org_cipher(row["org_id"]), row["id"], value)


def _sealed_text(purpose: str) -> Decryptor:
    def open_text(opener: Opener, row: RowMapping, value: bytes) -> str:
        return sealing.unseal_text(opener.org_cipher(row["org_id"]), purpose, row["id"], value)

    return open_text


def _table_and_column(where: str) -> tuple[str, str]:
    table, column = where.split(".")
    return table, column


def _minor_field(column: str) -> Decryptor:
    def open_field(opener: Opener, row: RowMapping, value: bytes) -> str:
        aad = minors.sealed_column_aad(column, row["membership_id"])
        return opener.org_cipher(row["org_id"]).decrypt_text(value, aad)

    return open_field


DECRYPTORS: dict[tuple[str, str], Decryptor] = {
    **{_table_and_column(column): _minor_field(column) for column in minors.SEALED_COLUMNS},
    ("accounts", "mobile_encrypted"): _own_mobile,
    ("join_requests", "mobile_encrypted"): _own_mobile,
    ("im_messages", "content_sealed"): _message_content,
    ("im_files", "name_sealed"): _sealed_text("im-file"),
    ("im_conversations", "announcement_sealed"): _sealed_text("im-announcement"),
    ("dings", "text_sealed"): _sealed_text("ding"),
    ("ding_files", "name_sealed"): _sealed_text("ding-file"),
    ("work_notices", "content_sealed"): _sealed_text("work-notice"),  # the message as JSON
    ("guardian_consents", "guardian_name_encrypted"): _minor_field(
        "guardian_consents.guardian_name_encrypted"
    ),
    ("guardian_consents", "guardian_contact_encrypted"): _minor_field(
        "guardian_consents.guardian_contact_encrypted"
    ),
    ("guardian_consents", "evidence_note_encrypted"): _minor_field(
        "guardian_consents.evidence_note_encrypted"
    ),
}
WITHHELD: frozenset[tuple[str, str]] = frozenset(
    {("accounts", "password_hash"), ("accounts", "totp_secret_encrypted")}
)


def treatment_of(table: Table, column: Column) -> Treatment:
    declared = declaration_of(column)
    if declared is None or declared.data_class is DataClass.NONE:
        return Treatment.OMITTED if isinstance(column.type, LargeBinary) else Treatment.NOT_PERSONAL
    key = (table.name, column.name)
    if key in WITHHELD:
        return Treatment.WITHHELD
    if not declared.encrypted:
        return Treatment.CLEAR
    if key in DECRYPTORS:
        return Treatment.DECRYPTED
    if column.name.endswith(("_index", "_hash")):
        return Treatment.ONE_WAY
    return Treatment.UNREADABLE


def shown_in_others_rows(column: Column) -> bool:
    """Whether a column of a row that only names the person (a SET NULL link) is theirs to see:
    ids and flags, and business content such as their words; never another person's data."""
    declared = declaration_of(column)
    return declared is None or declared.data_class in (DataClass.NONE, DataClass.BUSINESS)


def is_organisation_record(declared: PersonalData | None) -> bool:
    return declared is not None and declared.lifecycle.action is Action.ORGANISATION_RECORD


# Rows -----------------------------------------------------------------------------------------
EXPORT_BATCH = 2_000
_OWNED_LABEL = "zt_row_is_owned"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None  # never reached for columns the export gives; kept safe
    return value


def render_row(person_table: PersonTable, row: RowMapping, *, owned: bool, opener: Opener) -> dict[str, Any]:
    """One row as the export gives it (see the module docstring)."""
    rendered: dict[str, Any] = {}
    table = person_table.table
    # The id first: mixin columns come last in the table, but a reader looks for it first.
    for column in sorted(table.columns, key=lambda column: column.name != "id"):
        treatment = treatment_of(table, column)
        if treatment in (Treatment.OMITTED, Treatment.ONE_WAY, Treatment.WITHHELD, Treatment.UNREADABLE):
            continue
        if not owned and not shown_in_others_rows(column):
            continue
        value = row[column.name]
        if treatment is Treatment.DECRYPTED and value is not None:
            try:
                value = DECRYPTORS[(table.name, column.name)](opener, row, bytes(value))
            except (CryptoError, ValueError):
                value = None  # the organisation's key is destroyed: nothing can be read any more
        rendered[column.name] = _jsonable(value)
    return rendered


async def read_rows(
    session: AsyncSession, person_table: PersonTable, person: Person, *, after_id: str | None = None
) -> list[tuple[RowMapping, bool]]:
    """A batch of the table's rows about the person (ordered by id when it has one), each with
    whether it is the person's own."""
    table = person_table.table
    owned = case((person_table.owned(person), true()), else_=false()).label(_OWNED_LABEL)
    query = select(table, owned).where(person_table.any_row(person))
    if "id" in table.c:
        query = query.order_by(table.c.id).limit(EXPORT_BATCH)
        if after_id is not None:
            query = query.where(table.c.id > after_id)
    result = await session.execute(query)
    return [(row._mapping, bool(row._mapping[_OWNED_LABEL])) for row in result]


# Summary --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableHolding:
    table: str
    rows: int
    values: Mapping[DataClass, int]  # non-empty personal values per class


async def count_holdings(session: AsyncSession, person_table: PersonTable, person: Person) -> TableHolding:
    """How many rows the table holds about the person, and how many personal values per class,
    counted as the export would give them."""
    table = person_table.table
    owned, any_row = person_table.owned(person), person_table.any_row(person)
    counted: list[tuple[DataClass, Any]] = []
    for column in table.columns:
        declared = declaration_of(column)
        if declared is None or declared.data_class is DataClass.NONE:
            continue
        if treatment_of(table, column) is Treatment.WITHHELD:
            continue
        present: ColumnElement[bool] = column.is_not(None)
        if isinstance(column.type, String | Text):
            present = and_(present, column != "")
        visible = any_row if shown_in_others_rows(column) else owned
        counted.append((declared.data_class, func.count(case((and_(visible, present), 1)))))
    query = select(func.count(), *(expression for _, expression in counted)).where(any_row)
    values = (await session.execute(query)).one()
    per_class: dict[DataClass, int] = {}
    for (data_class, _), value in zip(counted, values[1:], strict=True):
        per_class[data_class] = per_class.get(data_class, 0) + int(value or 0)
    return TableHolding(table.name, int(values[0]), per_class)


async def summarise(session: AsyncSession, person: Person, metadata: MetaData) -> list[TableHolding]:
    """What the platform holds about the person, table by table (tables without rows left out)."""
    holdings = [await count_holdings(session, table, person) for table in person_tables(metadata)]
    return [holding for holding in holdings if holding.rows]


def tables_by_name(tables: Sequence[PersonTable]) -> dict[str, PersonTable]:
    return {person_table.name: person_table for person_table in tables}


@dataclass(frozen=True)
class CategoryHolding:
    data_class: DataClass
    values: int
    tables: Sequence[str]


async def holdings_by_category(
    session: AsyncSession, context: AppContext, account_id: str
) -> tuple[list[CategoryHolding], list[TableHolding]]:
    """The summary the privacy centre shows: per class of personal data, how many values the
    platform holds about the person and in which tables; and the rows per table."""
    from zhengtong.models import metadata  # every domain's tables

    person = await load_person(session, context, account_id)
    tables = await summarise(session, person, metadata)
    categories = []
    for data_class in DataClass:
        holding_tables = [table.table for table in tables if table.values.get(data_class)]
        values = sum(table.values.get(data_class, 0) for table in tables)
        if data_class is not DataClass.NONE and values:
            categories.append(CategoryHolding(data_class, values, holding_tables))
    return categories, tables
