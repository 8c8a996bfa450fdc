"""Running a service's scoped query one page at a time: numbered pages and keyset pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, inspect

from tracker.extensions import db

# A numbered list counts at most this many rows past the page shown: counting every open
# conflict of a large history costs more than the page itself ("more than 1,000" is as useful).
COUNT_AHEAD = 1000


class CappedPagination(SelectPagination):
    """A page whose total is exact up to COUNT_AHEAD rows past it; `capped` says it was cut."""

    capped = False

    def _query_count(self) -> int:
        if len(self.items) < self.per_page and (self.items or self.page == 1):
            return self._query_offset + len(self.items)  # the last page: nothing to count
        cap = self._query_offset + COUNT_AHEAD
        counted = self._query_args.get("counted")
        if counted is not None:
            # The same rows selected more cheaply (a search's matches without their ranks).
            rows = counted.order_by(None).limit(cap + 1).subquery()
        else:
            statement = self._query_args["select"]
            if len(statement.selected_columns) > 1 and not statement._group_by_clauses:
                # Only the keys: the rows' other columns are not read to be counted.
                keys = inspect(statement.column_descriptions[0]["entity"]).primary_key
                statement = statement.with_only_columns(*keys, maintain_column_froms=True)
            # (A grouped or single-column statement is counted as it is: its columns are
            # what the groups are made of.) In the list's own order: the index that serves
            # the page serves the count.
            rows = statement.limit(cap + 1).subquery()
        found = self._query_args["session"].scalar(sa.select(sa.func.count()).select_from(rows))
        self.capped = found > cap
        return min(found, cap)


def numbered(
    statement: Select, page: int, per_page: int, *, counted: Select | None = None
) -> CappedPagination:
    """Page `page` (from 1) of `statement` in its own order; past the end is an empty page.

    `counted`: the same rows selected more cheaply for the total (a ranked search counts
    its matches without computing their ranks)."""
    return CappedPagination(
        select=statement,
        counted=counted,
        session=db.session(),
        page=max(1, page),
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
    )


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
