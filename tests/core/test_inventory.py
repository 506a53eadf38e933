"""Every column of every table declares what personal data it holds and what happens to it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

from zhengtong.core.inventory import (
    DELETE,
    NOT_PERSONAL,
    DataClass,
    declaration_of,
    personal,
    undeclared_columns,
)
from zhengtong.models import metadata


def test_every_column_is_declared() -> None:
    offenders = undeclared_columns(metadata)

    assert offenders == [], (
        "columns without info=personal(...) or info=NOT_PERSONAL (see zhengtong.core.inventory): "
        + ", ".join(offenders)
    )


def test_sensitive_and_biometric_columns_are_encrypted() -> None:
    unencrypted = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if (declared := declaration_of(column)) is not None
        and declared.data_class in (DataClass.SENSITIVE, DataClass.BIOMETRIC)
        and not declared.encrypted
    ]

    assert unencrypted == [], "sensitive or biometric columns stored in clear: " + ", ".join(unencrypted)


def test_the_checker_names_an_undeclared_column() -> None:
    throwaway = MetaData()
    Table(
        "things",
        throwaway,
        Column("id", Integer, primary_key=True, info=NOT_PERSONAL),
        Column("owner_name", String(50), info=personal(DataClass.IDENTITY, DELETE)),
        Column("secret", String(50)),
        Column("other_info", String(50), info={"something": "else"}),
    )

    assert undeclared_columns(throwaway) == ["things.secret", "things.other_info"]
