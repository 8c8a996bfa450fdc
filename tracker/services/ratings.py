"""Who may rate a resolution, and when: the one rule the portal and `trust.rate` both follow."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict, Rating, User
from tracker.services.conflict_access import may_see

RATING_WINDOW = timedelta(days=30)

NOT_A_PARTNER = "Only the partner's people rate a resolution."
NOT_VISIBLE = "No such conflict."
NOT_RESOLVED = "Only a closed, resolved conflict can be rated."
WINDOW_CLOSED = "Ratings are open for 30 days after closing."
ALREADY_RATED = "You have already rated this resolution."


def can_rate(user: User, conflict: Conflict, now: datetime) -> str | None:
    """None when `user` may rate `conflict` at `now`; otherwise the reason they cannot.

    A partner's user who may see the conflict, once per conflict, when it was closed as
    resolved (not withdrawn), within RATING_WINDOW of closing. Reads the user's rating only
    when everything else allows it.
    """
    if not user.is_partner:
        return NOT_A_PARTNER
    if not may_see(user, conflict):
        return NOT_VISIBLE
    if conflict.status != workflow.CLOSED or conflict.close_reason == "withdrawn":
        return NOT_RESOLVED
    if conflict.closed_at is None or now - conflict.closed_at > RATING_WINDOW:
        return WINDOW_CLOSED
    if my_rating(user, conflict) is not None:
        return ALREADY_RATED
    return None


def my_rating(user: User, conflict: Conflict) -> Rating | None:
    """The rating `user` gave `conflict`, if any."""
    return db.session.scalar(
        select(Rating).where(Rating.conflict_id == conflict.id, Rating.user_id == user.id)
    )
