"""Rows of one account by code or by Uid, the statements built once per entity: every request
resolves the refs it was sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection, Table, bindparam, select

from openpws.store.prebuilt import PrebuiltRows
from openpws.store.rows import columns_for

R = TypeVar("R")


class ByCodeOrUid(Generic[R]):
    """``table``'s rows as ``row_type``, looked up by the upper-cased code column ``code_key``
    or by ``uid``, many keys in one query."""

    def __init__(self, table: Table, row_type: type[R], code_key: str) -> None:
        def select_by(column: str) -> PrebuiltRows[R]:
            return PrebuiltRows(select(*columns_for(table, row_type)).where(
                table.c.account_id == bindparam("account"),
                table.c[column].in_(bindparam("keys", expanding=True))),
                row_type, expanding=["keys"])

        self._by_codes = select_by(code_key)
        self._by_uids = select_by("uid")

    def by_codes(self, tx: Connection, account_id: int, codes: Sequence[str]) -> list[R]:
        """Rows whose code, upper-cased, is one of ``codes`` (given upper-cased)."""
        return self._by_codes.rows(tx, account=account_id, keys=codes) if codes else []

    def by_uids(self, tx: Connection, account_id: int, uids: Sequence[int]) -> list[R]:
        return self._by_uids.rows(tx, account=account_id, keys=uids) if uids else []
