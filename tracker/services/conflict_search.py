"""The one conflict search: filters, the viewer's scope, and the order each list promises.

The manager queue, the partner's list and the API list all read conflicts through `search()`;
who sees which conflict (a partner's people: their own organisation's) is decided here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, Subquery, exists, false, literal, literal_column, select
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from tracker.domain import search_text, workflow
from tracker.domain.clock import SLA_STATES
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, User
from tracker.services import paging, search_index, similar_cache
from tracker.services.errors import InvalidInput

MAX_SIMILAR = 5


@dataclass(frozen=True)
class ConflictFilters:
    """What the viewer asked for; unknown statuses, severities and SLA states mean "any"."""

    status: str | None = None
    partner_id: int | None = None
    severity: str | None = None
    assignee_id: int | None = None
    mine: bool = False  # assigned to the viewer
    unassigned: bool = False
    search: str | None = None  # words of the title, description, reference and comments
    sla_state: str | None = None
    updated_since: datetime | None = None  # for partners: changed in ways they can see


def search(
    viewer: User,
    filters: ConflictFilters,
    *,
    ranked: bool = True,
    found: Subquery | None = None,
) -> Select:
    """Conflicts matching `filters` that `viewer` may see, in no particular order (a search
    best match first; `ranked=False`: the same conflicts unranked, for counting them).

    `found`: the search's matches already read (search_index.matched), for a page and its
    total to share."""
    query = select(Conflict)
    if not viewer.is_staff:
        query = query.where(Conflict.partner_id == viewer.partner_id)
    if filters.status in workflow.STATES:
        query = query.where(Conflict.status == filters.status)
    if filters.partner_id:
        query = query.where(Conflict.partner_id == filters.partner_id)
    if filters.severity in workflow.SEVERITIES:
        query = query.where(Conflict.severity == filters.severity)
    if filters.assignee_id or filters.mine or filters.unassigned:
        if not viewer.is_staff:  # who is assigned is internal: no filtering on it either
            raise InvalidInput(
                N_("Filtering by assignee is for alliance managers."),
                field_errors={"assignee_id": N_("Not available to partner users.")},
            )
        if filters.unassigned:
            query = query.where(Conflict.assignee_id.is_(None))
        else:
            query = query.where(
                Conflict.assignee_id == (viewer.id if filters.mine else filters.assignee_id)
            )
    if filters.search and filters.search.strip():
        query = _matching(query, viewer, search_text.terms(filters.search), ranked, found)
    if filters.sla_state in SLA_STATES:
        query = query.where(Conflict.sla_state == filters.sla_state)
    if filters.updated_since is not None:
        # Partners see only public changes: internal notes must not surface a conflict.
        column = Conflict.updated_at if viewer.is_staff else Conflict.public_updated_at
        query = query.where(column >= filters.updated_since)
    return query


def queue_page(viewer: User, filters: ConflictFilters, page: int, per_page: int) -> Pagination:
    """The manager queue: every conflict not closed (or of the chosen status), most urgent first.

    With their assignees but not their partners: the queue names those from the partner
    filter's list (partners.choices), which it reads anyway; loading them with the rows was
    a statement and a third of reading the page."""
    found = _found(viewer, filters)
    query = queue_query(viewer, filters, found).options(selectinload(Conflict.assignee))
    return paging.numbered(
        _listed(query),
        page,
        per_page,
        counted=_counted(viewer, filters, found, lambda query: _open_unless_chosen(query, filters)),
    )


def queue_query(viewer: User, filters: ConflictFilters, found: Subquery | None = None) -> Select:
    """The queue's statement, in its order, without loader options: queue_page reads a page
    of it with the assignees, queue_export every row with both people."""
    return _open_unless_chosen(search(viewer, filters, found=found), filters).order_by(*URGENCY)


def _listed(query: Select) -> Select:
    """A list page's statement: only the columns its rows show (web.conflict_rows) and
    live_state reads, not the description, the resolution, the chain head and the rest;
    about half a row's columns, each a value the ORM converts and stores."""
    return query.options(_list_columns())


@cache
def _list_columns() -> _AbstractLoad:
    """The option, built once (see _api_columns)."""
    return load_only(*_LIST_COLUMNS)


_LIST_COLUMNS = (
    Conflict.id, Conflict.ref, Conflict.partner_id, Conflict.assignee_id, Conflict.title,
    Conflict.severity, Conflict.status, Conflict.created_at, Conflict.public_updated_at,
    Conflict.close_reason, Conflict.sla_state, Conflict.sla_due_at, Conflict.next_check_at,
    # What live_state reads when the sweep has not caught up (sla.snapshot_policy and the
    # clocks):
    Conflict.sla_snapshot, Conflict.triage_target_seconds, Conflict.triage_stopped_at,
    Conflict.resolution_target_seconds, Conflict.resolution_spent_seconds,
    Conflict.resolution_running_since, Conflict.resolution_stopped_at,
)  # fmt: skip


def _open_unless_chosen(query: Select, filters: ConflictFilters) -> Select:
    if filters.status not in workflow.STATES:
        # "Not closed" in the very words of the partial index ix_conflicts_queue_order
        # (models.conflict.NOT_CLOSED): both planners then read the queue's order from it and
        # stop after a page, whatever their statistics say (`status IN (...)` tempted them
        # into the status index and a sort of every open conflict).
        query = query.where(Conflict.status != literal_column(f"'{workflow.CLOSED}'"))
    return query


def queue_export(viewer: User, filters: ConflictFilters) -> Iterator[Conflict]:
    """Every conflict of the queue with these filters, in the queue's order, streamed (the
    CSV export: all matching rows, not one page)."""
    query = _with_people(queue_query(viewer, filters))
    return iter(db.session.scalars(query.execution_options(yield_per=500)))


def portal_page(viewer: User, filters: ConflictFilters, page: int, per_page: int) -> Pagination:
    """The partner's list: their conflicts, most recently changed (in ways they see) first.

    Without their people: a partner's row shows neither the partner (the viewer's own,
    loaded with the signed-in user) nor the assignee (internal)."""
    found = _found(viewer, filters)
    query = search(viewer, filters, found=found)
    query = query.order_by(Conflict.public_updated_at.desc(), Conflict.id.desc())
    counted = _counted(viewer, filters, found)
    return paging.numbered(_listed(query), page, per_page, counted=counted)


def _found(viewer: User, filters: ConflictFilters) -> Subquery | None:
    """A search's matches read once for a numbered page, which joins them twice (the page
    and its total); None without a search, or with no words to match."""
    words = search_text.terms(filters.search) if filters.search else []
    return search_index.matched(viewer, words) if words else None


def _counted(
    viewer: User,
    filters: ConflictFilters,
    found: Subquery | None,
    scoped: Callable[[Select], Select] | None = None,
) -> Select | None:
    """The list's conflicts for its total: a search's matches without their ranks."""
    if not (filters.search and filters.search.strip()):
        return None
    if found is not None:
        # The matches read already, each looked up by key in the list's other filters:
        # joined instead, SQLite (without statistics) would rather read every conflict of
        # the status from its index and test each against the matches.
        listed = search(viewer, replace(filters, search=None))
        listed = scoped(listed) if scoped else listed
        one = listed.with_only_columns(literal(1)).where(Conflict.id == found.c.conflict_id)
        return select(found.c.conflict_id).where(exists(one))
    query = search(viewer, filters, ranked=False).with_only_columns(Conflict.id)
    return scoped(query) if scoped else query


def snippets(
    viewer: User, filters: ConflictFilters, conflicts: Iterable[Conflict]
) -> dict[int, search_index.Snippet]:
    """The matched passage of each conflict on a result page (none without a search)."""
    return search_index.snippets(viewer, filters.search, [c.id for c in conflicts])


def api_page(
    viewer: User, filters: ConflictFilters, after_id: int | None, limit: int
) -> list[Conflict]:
    """The API list: newest first by id, `limit + 1` rows after the cursor's id, with only
    the columns the API shows (`api.present.conflict`): the clock internals, the agreement
    snapshot (JSON) and the chain head are neither read nor decoded per row."""
    query = search(viewer, filters).options(_api_columns())
    return paging.after(query, after_id, limit, descending=True)


@cache
def _api_columns() -> _AbstractLoad:
    """The option, built once (with its cache key): built per request it costs more than
    the columns it leaves out."""
    return load_only(*_API_COLUMNS, raiseload=True)


_API_COLUMNS = (
    Conflict.id, Conflict.ref, Conflict.partner_id, Conflict.assignee_id, Conflict.title,
    Conflict.description, Conflict.category, Conflict.severity, Conflict.status,
    Conflict.created_at, Conflict.updated_at, Conflict.public_updated_at, Conflict.triaged_at,
    Conflict.resolved_at, Conflict.closed_at, Conflict.accountable_side, Conflict.repeat_of_id,
    Conflict.triage_due_at, Conflict.resolution_due_at, Conflict.partner_wait_seconds,
    Conflict.sla_state, Conflict.escalation_level,
)  # fmt: skip


def api_search_page(
    viewer: User, filters: ConflictFilters, offset: int, limit: int
) -> list[Conflict]:
    """The API's search: best match first (newest breaks ties), `limit + 1` rows after
    `offset` of them (ranked rows have no id order to continue after)."""
    query = search(viewer, filters).order_by(Conflict.id.desc()).offset(offset).limit(limit + 1)
    return list(db.session.scalars(_with_people(query)))


# Soonest SLA deadline first; paused and finished clocks (no deadline) after, oldest first.
# "No deadline last" is spelt as a leading (sla_due_at IS NULL), not NULLS LAST, so that both
# engines read it from one index (ix_conflicts_queue_order) instead of sorting.
URGENCY = (
    Conflict.sla_due_at.is_(None).asc(),
    Conflict.sla_due_at.asc(),
    Conflict.created_at.asc(),
    Conflict.id.asc(),
)


def _with_people(query: Select) -> Select:
    return query.options(selectinload(Conflict.partner), selectinload(Conflict.assignee))


def _matching(
    query: Select,
    viewer: User,
    words: list[str],
    ranked: bool = True,
    found: Subquery | None = None,
) -> Select:
    """Only conflicts with every word, best match first (each list's order breaks ties).

    Words only: what was typed never reaches the index as syntax, and text without a word
    (punctuation, operators) matches nothing rather than everything.
    """
    if not words:
        return query.where(false())
    rows = search_index.matches(viewer, words, ranked=ranked) if found is None else found
    query = query.join(rows, rows.c.conflict_id == Conflict.id)
    return query.order_by(rows.c.score) if ranked else query


def similar(
    viewer: User, title: str, description: str | None = None, *, exclude_id: int | None = None
) -> list[Conflict]:
    """Up to five conflicts `viewer` may see that read like this title and description,
    most alike first: a partner's own organisation's, or (for staff) any partner's."""
    found = search_index.similar_to(viewer, title, description)
    if found is None:
        return []
    best = (
        search(viewer, ConflictFilters())
        .with_only_columns(Conflict.id, found.c.score)
        .join(found, found.c.conflict_id == Conflict.id)
    )
    if exclude_id is not None:
        best = best.where(Conflict.id != exclude_id)
    # The five best by id and score first, their rows after: sorting the candidates' whole
    # rows (up to SIMILAR_CANDIDATES descriptions) cost more than finding them.
    chosen = best.order_by(found.c.score, Conflict.id.desc()).limit(MAX_SIMILAR).subquery()
    query = (
        select(Conflict)
        .join(chosen, chosen.c.id == Conflict.id)
        .order_by(chosen.c.score, Conflict.id.desc())
        # The partner in the same statement (a many-to-one: five rows, no second read).
        .options(joinedload(Conflict.partner))
    )
    return list(db.session.scalars(query))


def similar_to_conflict(viewer: User, conflict: Conflict) -> list[Conflict]:
    """similar() to a conflict's own title and description, for its page: the ranking is
    remembered for a short while per viewer's scope (services.similar_cache), the rows are
    read for every view. At most one statement either way."""
    scope = "staff" if viewer.is_staff else f"partner {viewer.partner_id}"
    key = (scope, conflict.id, similar_cache.text_key(conflict.title, conflict.description))
    ids = similar_cache.get(key)
    if ids is None:
        found = similar(viewer, conflict.title, conflict.description, exclude_id=conflict.id)
        similar_cache.put(key, tuple(c.id for c in found))
        return found
    if not ids:
        return []
    query = (
        search(viewer, ConflictFilters())
        .where(Conflict.id.in_(ids))
        .options(joinedload(Conflict.partner))
    )
    rows = {c.id: c for c in db.session.scalars(query)}
    return [rows[i] for i in ids if i in rows]
