"""The tamper-evident chain of a partner's conflicts, for the partner to verify itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import paging
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import chain_export

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/audit-chain",
    summary="The audit chain of your conflicts",
    tag="audit",
    query=s.AuditChainQuery,
    responses={200: s.AuditChainPage},
)
def get_audit_chain(user: User, query: s.AuditChainQuery) -> s.AuditChainPage:
    """Every conflict's event chain, oldest conflict first, with a cursor (`next`).

    A partner's token reads its own organisation's conflicts only; internal events appear
    as their hashes. Check the pages with `scripts/verify_chain.py`.
    """
    chains = chain_export.page(
        user, after_id=paging.decode(query.cursor), limit=query.limit, partner_id=query.partner_id
    )
    return s.AuditChainPage(
        **chain_export.header(user, utcnow()),
        chains=[s.AuditChain.model_validate(c.as_json()) for c in chains[: query.limit]],
        next=paging.next_link(chains, query.limit),
    )
