"""The erasure plan, read from the schema and the personal-data inventory instead of a list.

For every table it says how rows reach a person and an organisation:

- a column referencing `memberships.id` or `accounts.id` (privacy.subjects): with ON DELETE
  CASCADE the row is the person's own and is deleted; with SET NULL it is the organisation's or
  someone else's (a message they wrote, a member they managed) and only the reference is cleared,
  together with the columns the inventory marks ANONYMISE;
- a column named `mobile_index`: the row names the person by the blind index of their mobile
  (a join request, a login code) and is deleted;
- a column referencing `organizations.id`: with CASCADE the row is the organisation's and goes
  with it; with SET NULL (a session's current organisation) the reference is cleared.

Tables come children first, so a row is gone before the row it hangs off. A table added later is
covered as soon as its foreign keys say whose it is; tests/privacy/erasure/test_walk.py fails for
a table holding personal data that nothing reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Integer, LargeBinary, MetaData, String, Table

from zhengtong.core.inventory import Action, declaration_of
from zhengtong.privacy.subjects import (
    SUBJECT_TABLES,
    OrganizationLink,
    SubjectKind,
    SubjectLink,
    mobile_index_columns,
    organization_links,
    subject_links,
)


@dataclass(frozen=True)
class TablePlan:
    table: Table
    membership_links: list[SubjectLink] = field(default_factory=list)
    account_links: list[SubjectLink] = field(default_factory=list)
    organization_links: list[OrganizationLink] = field(default_factory=list)
    mobile_index: Column[Any] | None = None

    @property
    def is_subject(self) -> bool:
        """`memberships` or `accounts`: the person's own row, deleted last by its owner."""
        return self.table.name in SUBJECT_TABLES

    @property
    def organization_column(self) -> Column[Any] | None:
        """The column that makes the row the organisation's (a CASCADE reference), if any."""
        owning = [link.column for link in self.organization_links if link.owns_row]
        return owning[0] if owning else None

    @property
    def anonymised_columns(self) -> list[Column[Any]]:
        return [column for column in self.table.columns if _action(column) is Action.ANONYMISE]

    @property
    def holds_personal_data(self) -> bool:
        return any(_action(column) not in (None, Action.NONE) for column in self.table.columns)

    @property
    def self_references(self) -> list[Column[Any]]:
        """Nullable columns pointing at the same table (a department's parent, a member's manager):
        cleared before the table's rows are deleted in batches, so no row waits for another."""
        return [
            column
            for column in self.table.columns
            if column.nullable and any(fk.column.table is self.table for fk in column.foreign_keys)
        ]


def _action(column: Column[Any]) -> Action | None:
    declaration = declaration_of(column)
    return declaration.lifecycle.action if declaration else None


@cache
def erasure_plan(metadata: MetaData) -> tuple[TablePlan, ...]:
    """Every table that reaches a person or an organisation, children first."""
    plans = {table.name: TablePlan(table) for table in metadata.sorted_tables}
    for link in subject_links(metadata):
        plan = plans[link.table.name]
        (plan.membership_links if link.kind is SubjectKind.MEMBERSHIP else plan.account_links).append(link)
    for org_link in organization_links(metadata):
        plans[org_link.table.name].organization_links.append(org_link)
    for column in mobile_index_columns(metadata):
        plans[column.table.name] = _with_mobile_index(plans[column.table.name], column)
    ordered = [plans[table.name] for table in reversed(metadata.sorted_tables)]
    return tuple(
        plan
        for plan in ordered
        if plan.membership_links
        or plan.account_links
        or plan.organization_links
        or plan.mobile_index is not None
    )


def _with_mobile_index(plan: TablePlan, column: Column[Any]) -> TablePlan:
    return TablePlan(plan.table, plan.membership_links, plan.account_links, plan.organization_links, column)


def blank_value(column: Column[Any]) -> Any:
    """What an anonymised column holds: NULL where allowed, else an empty value of its type."""
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return {}
    for kind, empty in ((String, ""), (Boolean, False), (Integer, 0), (LargeBinary, b"")):
        if isinstance(column.type, kind):
            return empty
    raise ValueError(f"no empty value for {column.table.name}.{column.name}: make it nullable")
