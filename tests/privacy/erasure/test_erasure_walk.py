"""The erasure plan covers every table: a table holding personal data that neither removing a
member nor purging an organisation reaches fails here, the day it is added."""

from __future__ import annotations

from zhengtong.core.inventory import Action, declaration_of
from zhengtong.models import metadata
from zhengtong.privacy.erasure.walk import blank_value, erasure_plan
from zhengtong.privacy.subjects import SUBJECT_TABLES


def _actions(table: object) -> dict[str, Action]:
    found = {}
    for column in table.columns:  # type: ignore[attr-defined]
        declaration = declaration_of(column)
        if declaration is not None and declaration.lifecycle.action is not Action.NONE:
            found[column.name] = declaration.lifecycle.action
    return found


def test_every_table_with_personal_data_is_reached_by_member_erasure_or_the_purge() -> None:
    planned = {plan.table.name for plan in erasure_plan(metadata)}
    unreached = []
    for table in metadata.sorted_tables:
        actions = _actions(table)
        if not actions or table.name in planned or table.name in SUBJECT_TABLES:
            continue
        if set(actions.values()) == {Action.RETAIN}:
            continue  # kept for its legal period (the audit log), then deleted by its retention job
        unreached.append(f"{table.name} ({', '.join(sorted(actions))})")
    assert unreached == [], (
        "tables whose personal data nothing erases: give them a foreign key that says whose"
    )


def test_a_table_with_an_org_id_column_is_reached_by_the_purge_unless_it_holds_nothing_personal() -> None:
    purged = {plan.table.name for plan in erasure_plan(metadata) if plan.organization_column is not None}
    missed = [
        table.name
        for table in metadata.sorted_tables
        if "org_id" in table.columns and table.name not in purged and _actions(table)
    ]
    assert missed == []


def test_rows_that_go_with_a_person_hold_no_organisation_record() -> None:
    # A row deleted with its person (ON DELETE CASCADE) would take the organisation's business
    # record with it; such a column belongs in a row that only names the person (SET NULL).
    clashes = [
        f"{plan.table.name}.{link.column.name}"
        for plan in erasure_plan(metadata)
        for link in plan.membership_links + plan.account_links
        if link.owns_row
        and not plan.is_subject
        and Action.ORGANISATION_RECORD in _actions(plan.table).values()
    ]
    assert clashes == []


def test_every_anonymised_column_has_an_empty_value() -> None:
    for plan in erasure_plan(metadata):
        for column in plan.anonymised_columns:
            blank_value(column)  # raises for a column that can hold neither NULL nor an empty value


def test_children_come_before_the_rows_they_hang_off() -> None:
    order = [plan.table.name for plan in erasure_plan(metadata)]

    assert order.index("im_message_tokens") < order.index("im_messages") < order.index("im_conversations")
    assert order.index("member_departments") < order.index("memberships") < order.index("accounts")
