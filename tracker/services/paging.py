"""Running a service's scoped query one page at a time: numbered pages and keyset pages."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import Select, func, inspect, select

from tracker.extensions import db


def numbered(
    statement: Select, page: int, per_page: int, *, counted: Select | None = None
) -> Pagination:
    """Page `page` (from 1) of `statement` in its own order; past the end is an empty page.

    `counted`: the same rows selected more cheaply for the total (a ranked search counts
    its matches without computing their ranks)."""
    if counted is None:
        return db.paginate(statement, page=page, per_page=per_page, error_out=False)
    return _CountedPagination(
        select=statement, counted=counted, session=db.session(), page=page,
        per_page=per_page, max_per_page=None, error_out=False, count=True,
    )  # fmt: skip


class _CountedPagination(SelectPagination):
    def _query_count(self) -> int:
        rows = self._query_args["counted"].order_by(None).subquery()
        return self._query_args["session"].execute(select(func.count()).select_from(rows)).scalar()


def after(statement: Select, after_id: int | None, limit: int, *, descending: bool) -> list[Any]:
    """Up to `limit + 1` rows ordered by id after `after_id` (the extra row says "there is more").

    `statement` selects one mapped entity; its own ordering is replaced by the id's.
    """
    entity = statement.column_descriptions[0]["entity"]
    id_column = inspect(entity).primary_key[0]
    statement = statement.order_by(None)
    if after_id is not None:
        statement = statement.where(id_column < after_id if descending else id_column > after_id)
    order = id_column.desc() if descending else id_column.asc()
    return list(db.session.scalars(statement.order_by(order).limit(limit + 1)))
