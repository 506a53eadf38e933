"""Which rows are about which person, read from the schema itself.

A row is about a person when one of its columns references their account (`accounts.id`) or
one of their memberships (`memberships.id`). Export, removal and the scan walk these links
together with the personal-data inventory (core.inventory), so a new table that points at a
person is covered without being listed anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Column, MetaData, Table


class SubjectKind(StrEnum):
    ACCOUNT = "account"  # the column holds an accounts.id
    MEMBERSHIP = "membership"  # the column holds a memberships.id


SUBJECT_TABLES = {"accounts": SubjectKind.ACCOUNT, "memberships": SubjectKind.MEMBERSHIP}


@dataclass(frozen=True)
class SubjectLink:
    table: Table
    column: Column[object]
    kind: SubjectKind

    @property
    def owns_row(self) -> bool:
        """True when the row is the person's own (it goes with them: ON DELETE CASCADE); False
        when the row is the organisation's or someone else's and only names the person (SET
        NULL), like a message they wrote or a member they manage."""
        return any(
            (foreign_key.ondelete or "").upper() == "CASCADE"
            for foreign_key in self.column.foreign_keys
            if foreign_key.column.table.name in SUBJECT_TABLES
        )


def subject_links(metadata: MetaData) -> list[SubjectLink]:
    """Every column of every table that references a person, in dependency order."""
    links = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            for foreign_key in column.foreign_keys:
                kind = SUBJECT_TABLES.get(foreign_key.column.table.name)
                if kind is not None and foreign_key.column.name == "id":
                    links.append(SubjectLink(table, column, kind))
    return links


# Organisations and value links (used by privacy.erasure) --------------------------------------
ORGANIZATION_TABLE = "organizations"
# A row can also name a person by value: the keyed blind index of their mobile number (an
# invitation's join request, a login code), always in a column of this name.
MOBILE_INDEX_COLUMN = "mobile_index"


@dataclass(frozen=True)
class OrganizationLink:
    table: Table
    column: Column[object]

    @property
    def owns_row(self) -> bool:
        """True when the row is the organisation's (ON DELETE CASCADE: it goes with it); False
        when it only refers to the organisation (SET NULL), like a session's current one."""
        return any(
            (foreign_key.ondelete or "").upper() == "CASCADE"
            for foreign_key in self.column.foreign_keys
            if foreign_key.column.table.name == ORGANIZATION_TABLE
        )


def organization_links(metadata: MetaData) -> list[OrganizationLink]:
    """Every column of every table that references an organisation, in dependency order."""
    return [
        OrganizationLink(table, column)
        for table in metadata.sorted_tables
        for column in table.columns
        if table.name != ORGANIZATION_TABLE
        and any(
            foreign_key.column.table.name == ORGANIZATION_TABLE and foreign_key.column.name == "id"
            for foreign_key in column.foreign_keys
        )
    ]


def mobile_index_columns(metadata: MetaData) -> list[Column[object]]:
    """Every column that names a person by the blind index of their mobile number."""
    return [
        table.columns[MOBILE_INDEX_COLUMN]
        for table in metadata.sorted_tables
        if MOBILE_INDEX_COLUMN in table.columns
    ]
