"""The trust ledger: evidence from every closed loop, incremental scores, history and alerts.

Each side of a partnership (our delivery, the partner's responsiveness) keeps a tally
(r, s, as_of) in trust_scores: adding evidence or reading a score is O(1). trust_history
keeps the tally at the end of each day with evidence, for trends and 30-day changes.
`rebuild()` recomputes the tallies from the ledger; it must agree with the increments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app, render_template
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.database import insert_if_absent, lock_for_write, same_columns
from tracker.domain import trust as model
from tracker.domain import trust_period as period
from tracker.domain import workflow
from tracker.domain.calendar import business_time_between
from tracker.domain.escalation import BREACH
from tracker.domain.events import EscalationsFired, PartnerContact, StateChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import (
    CheckIn,
    Conflict,
    Partner,
    Rating,
    SlaPause,
    TrustEvent,
    TrustHistory,
    TrustScore,
    User,
)
from tracker.services import (
    audit_chain,
    messagebus,
    notifications,
    outbox,
    preferences,
    ratings,
    sla,
    trust_counts,
)
from tracker.services.conflict_access import visible_conflict
from tracker.services.errors import InvalidInput, NotFound, PermissionDenied, StateConflict

SIDE_LABELS = {
    model.SIDE_DELIVERY: N_("Our delivery"),
    model.SIDE_RESPONSIVENESS: N_("Partner responsiveness"),
}


def weights() -> model.TrustWeights:
    """The default weights, with the half-life from configuration."""
    days = current_app.config.get("TRUST_HALF_LIFE_DAYS", 90)
    return model.TrustWeights(half_life=timedelta(days=days))


# --- writing the ledger --------------------------------------------------------------------


def _score_row(partner_id: int, side: str) -> TrustScore:
    """The side's tally row, created if missing and locked until commit.

    The tally is read, decayed and written back in Python, so two evidence events at once
    must not both start from the same row: the row lock (PostgreSQL) or the database's write
    lock (SQLite) serialises them, and an upsert lets the first event of a side create it.
    """
    lock_for_write(db.session)
    insert_if_absent(
        db.session,
        TrustScore,
        {"partner_id": partner_id, "side": side, "r": 0.0, "s": 0.0, "events": 0},
        ["partner_id", "side"],
    )
    return db.session.scalar(
        select(TrustScore)
        .where(TrustScore.partner_id == partner_id, TrustScore.side == side)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def record(
    partner_id: int,
    side: str,
    kind: str,
    at: datetime,
    *,
    evidence: model.Evidence | None = None,
    conflict: Conflict | None = None,
    explanation: str | None = None,
    **facts: object,
) -> TrustEvent:
    """Append one event; evidence (if any) updates the side's tally and today's history."""
    values = _entry(partner_id, side, kind, at, evidence, conflict, explanation, facts)
    event = TrustEvent(**values)
    db.session.add(event)
    weight = values["weight"]
    trust_counts.count_entry(event)
    if weight:
        row = _score_row(partner_id, side)
        before = _tally(row).decayed_to(at, weights().half_life).score()
        tally = _tally(row).add(weight, at, weights().half_life)
        row.r, row.s, row.as_of = tally.r, tally.s, tally.as_of
        row.events += 1
        _remember_day(partner_id, side, tally)
        _alert_if_falling(partner_id, side, at, before, tally)
    return event


def _entry(
    partner_id: int,
    side: str,
    kind: str,
    at: datetime,
    evidence: model.Evidence | None,
    conflict: Conflict | None,
    explanation: str | None,
    facts: dict[str, object],
) -> dict[str, object]:
    """A ledger row's columns, linked into the partner's chain (its head is locked)."""
    values = {
        "conflict_id": conflict.id if conflict else None,
        "side": side,
        "kind": kind,
        "severity": conflict.severity if conflict else None,
        "weight": evidence.weight if evidence else 0.0,
        "rule": evidence.rule if evidence else kind,
        "explanation": (explanation or (evidence.explanation if evidence else kind))[:300],
        **facts,
    }
    link = audit_chain.link_trust_event(partner_id, at, values)
    return {"partner_id": partner_id, "at": at, **values, **link}


def _tally(row: TrustScore | TrustHistory | None) -> model.TrustTally:
    if row is None:
        return model.TrustTally()
    return model.TrustTally(row.r, row.s, row.as_of)


def _remember_day(partner_id: int, side: str, tally: model.TrustTally) -> None:
    """Keep the tally as it stands at the end of its day (under the tally's lock)."""
    day = tally.as_of.astimezone(UTC).date()
    insert_if_absent(
        db.session,
        TrustHistory,
        {
            "partner_id": partner_id,
            "side": side,
            "day": day,
            "r": tally.r,
            "s": tally.s,
            "as_of": tally.as_of,
        },
        ["partner_id", "side", "day"],
    )
    db.session.execute(
        update(TrustHistory)
        .where(
            TrustHistory.partner_id == partner_id,
            TrustHistory.side == side,
            TrustHistory.day == day,
        )
        .values(r=tally.r, s=tally.s, as_of=tally.as_of)
    )


def _times(conflict: Conflict) -> dict[str, object]:
    policy = sla.snapshot_policy(conflict)
    triage = None
    if conflict.triage_stopped_at is not None:
        triage = int(
            business_time_between(
                conflict.created_at, conflict.triage_stopped_at, policy.calendar
            ).total_seconds()
        )
    spent = conflict.resolution_spent_seconds
    target = conflict.resolution_target_seconds or 0
    return {
        "triage_business_seconds": triage,
        "resolution_business_seconds": spent,
        "resolution_wall_seconds": conflict.resolution_wall_seconds,
        "target_seconds": target,
        "sla_met": spent <= target,
        "overrun_seconds": max(0, spent - target),
        "accountable_side": conflict.accountable_side,
    }


def _resolved(conflict: Conflict, now: datetime) -> None:
    days = workflow.AUTO_CLOSE_AFTER.days
    explanation = (
        f"resolved; counts once the partner accepts it (or after {days} days without an answer)"
    )
    record(
        conflict.partner_id, model.SIDE_DELIVERY, "resolved", now, conflict=conflict,
        explanation=explanation, **_times(conflict),
    )  # fmt: skip


def _closed_loop(kind: str):  # type: ignore[no-untyped-def]
    """Accepted (by the partner, or by default after 7 days): the resolution is weighed."""

    def weigh(conflict: Conflict, now: datetime) -> None:
        facts = _times(conflict)
        evidence = model.resolution_evidence(
            conflict.severity,
            timedelta(seconds=facts["resolution_business_seconds"]),
            timedelta(seconds=facts["target_seconds"] or 1),
            weights(),
        )
        record(
            conflict.partner_id, model.SIDE_DELIVERY, kind, now,
            evidence=evidence, conflict=conflict, **facts,
        )  # fmt: skip

    return weigh


def _disputed(conflict: Conflict, now: datetime) -> None:
    record(
        conflict.partner_id, model.SIDE_DELIVERY, "disputed", now,
        evidence=model.dispute_evidence(conflict.severity, weights()), conflict=conflict,
    )  # fmt: skip


def _reopened(conflict: Conflict, now: datetime) -> None:
    record(
        conflict.partner_id, model.SIDE_DELIVERY, "reopened", now,
        evidence=model.reopen_evidence(conflict.severity, weights()), conflict=conflict,
    )  # fmt: skip


def _partner_answered(conflict: Conflict, now: datetime) -> None:
    pause = db.session.scalar(
        select(SlaPause)
        .where(SlaPause.conflict_id == conflict.id, SlaPause.ended_at.is_not(None))
        .order_by(SlaPause.id.desc())
    )
    if pause is None or pause.business_seconds is None:
        return
    expectation = sla.snapshot_policy(conflict).response_expectation
    evidence = model.partner_wait_evidence(
        conflict.severity, timedelta(seconds=pause.business_seconds), expectation, weights()
    )
    record(
        conflict.partner_id, model.SIDE_RESPONSIVENESS, "partner_answered", now,
        evidence=evidence, conflict=conflict,
    )  # fmt: skip


# The ledger entry of each kind of evidence a transition declares (workflow.TRANSITIONS).
EVIDENCE = {
    "resolved": _resolved,
    "accepted": _closed_loop("accepted"),
    "auto_accepted": _closed_loop("auto_accepted"),
    "disputed": _disputed,
    "reopened": _reopened,
    "partner_answered": _partner_answered,
}


def on_state_changed(event: StateChanged, now: datetime) -> None:
    """A transition's evidence goes into the ledger (after the clocks have moved)."""
    kind = workflow.TRANSITIONS[event.action].evidence
    if kind is not None:
        EVIDENCE[kind](db.session.get(Conflict, event.conflict_id), now)


@messagebus.batched
def on_escalations_fired(events: list[EscalationsFired], now: datetime) -> None:
    """A breach is a fact in the ledger (weight 0); `model.breach_fact` says where it weighs.
    A sweep's batch breaches conflicts of many partners: their chain heads are locked at once."""
    breached = [e for e in events if any(p.level == BREACH for p in e.passed)]
    conflicts = [db.session.get(Conflict, e.conflict_id) for e in breached]
    audit_chain.lock_trust_heads(c.partner_id for c in conflicts)
    first = trust_counts.first_breaches(c.id for c in conflicts)  # before this batch's rows
    rows = [
        _entry(
            conflict.partner_id, model.SIDE_DELIVERY, "breached", now, None, conflict,
            model.breach_fact(event.clock), {},
        )
        for event, conflict in zip(breached, conflicts, strict=True)
    ]  # fmt: skip
    if rows:  # facts without weight: no tally moves, so the rows go out in one statement
        db.session.execute(insert(TrustEvent), same_columns(rows))
    # The page counts conflicts: a conflict's first breach, once (two clocks may breach).
    firsts = [c for c in dict.fromkeys(conflicts) if c.id in first]
    trust_counts.add_many((c.partner_id, now, period.FIRST_BREACH) for c in firsts)


def on_partner_contact(event: PartnerContact, now: datetime) -> None:
    touch_contact(db.session.get(Partner, event.partner_id), now)


def rate(user: User, conflict_id: int, stars: int, comment: str, *, now: datetime) -> Rating:
    """A partner user's rating of a closed conflict: once per conflict and user, within 30 days."""
    if not user.is_partner:
        raise PermissionDenied(ratings.NOT_A_PARTNER)
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput(
            N_("Choose 1 to 5 stars."), field_errors={"stars": N_("Choose 1 to 5 stars.")}
        )
    text = (comment or "").strip()
    if len(text) > 2000:
        raise InvalidInput(
            N_("At most 2,000 characters."), field_errors={"comment": N_("Too long.")}
        )
    lock_for_write(db.session)  # SQLite: judge "already rated" with the write lock held
    conflict = visible_conflict(user, conflict_id)
    reason = ratings.can_rate(user, conflict, now)  # the one rule the portal shows too
    if reason is not None:
        raise StateConflict(reason)
    rating = Rating(
        conflict_id=conflict.id, user_id=user.id, stars=stars, comment=text or None, created_at=now
    )
    db.session.add(rating)
    try:
        db.session.flush()  # PostgreSQL: a twin's insert waits here, then finds ours
    except IntegrityError:
        db.session.rollback()
        raise StateConflict(N_("You have already rated this resolution.")) from None
    record(
        conflict.partner_id, model.SIDE_DELIVERY, "rated", now,
        evidence=model.rating_evidence(stars, weights()), conflict=conflict,
    )  # fmt: skip
    trust_counts.add(conflict.partner_id, now, period.RATED, value=stars)
    touch_contact(conflict.partner, now)
    db.session.commit()
    return rating


def touch_contact(partner: Partner, now: datetime) -> None:
    if partner.last_contact_at is None or partner.last_contact_at < now:
        partner.last_contact_at = now


def check_in(actor: User, partner_id: int, note: str, *, now: datetime) -> CheckIn:
    """A manager logs contact with a partner; it counts as contact."""
    if not actor.is_staff:
        raise PermissionDenied(N_("Only alliance managers log check-ins."))
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(N_("No such partner."))
    text = (note or "").strip()
    if not text:
        raise InvalidInput(
            N_("Say what was discussed."), field_errors={"note": N_("A note is required.")}
        )
    if len(text) > 5000:
        raise InvalidInput(N_("At most 5,000 characters."), field_errors={"note": N_("Too long.")})
    item = CheckIn(partner_id=partner.id, author_id=actor.id, note=text, at=now)
    db.session.add(item)
    touch_contact(partner, now)
    db.session.commit()
    return item


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideScore:
    side: str
    score: float
    low: float
    high: float
    r: float
    s: float
    events: int

    @property
    def label(self) -> str:
        return SIDE_LABELS[self.side]


def _side_score(side: str, tally: model.TrustTally, events: int) -> SideScore:
    low, high = tally.interval()
    return SideScore(side, tally.score(), low, high, tally.r, tally.s, events)


def side_score(side: str, tally: model.TrustTally, events: int = 0) -> SideScore:
    """A tally as the pages show it: the score and the range it most likely lies in."""
    return _side_score(side, tally, events)


def scores(partner_id: int, now: datetime) -> dict[str, SideScore]:
    """Both sides as of `now`: O(1) reads of the stored tallies, decayed on the fly."""
    rows = {
        row.side: row
        for row in db.session.scalars(select(TrustScore).where(TrustScore.partner_id == partner_id))
    }
    result = {}
    for side in model.SIDES:
        row = rows.get(side)
        tally = _tally(row).decayed_to(now, weights().half_life)
        result[side] = _side_score(side, tally, row.events if row else 0)
    return result


def score_at(partner_id: int, side: str, moment: datetime) -> model.TrustTally:
    """The tally as it stood at `moment`: the last history row before it, decayed to it."""
    row = db.session.scalar(
        select(TrustHistory)
        .where(
            TrustHistory.partner_id == partner_id,
            TrustHistory.side == side,
            TrustHistory.as_of <= moment,
        )
        .order_by(TrustHistory.as_of.desc())
        .limit(1)
    )
    return _tally(row).decayed_to(moment, weights().half_life)


def change(partner_id: int, side: str, now: datetime, days: int = 30) -> float:
    """The score now (the stored tally) minus the score `days` ago (from history)."""
    return change_and_cause(partner_id, side, now, days)[0]


def change_and_cause(
    partner_id: int, side: str, now: datetime, days: int = 30
) -> tuple[float, bool]:
    """The `days` change and whether only ageing moved it (no new evidence since): then a
    page shows it in a neutral colour, as fading rather than as something going wrong."""
    then = score_at(partner_id, side, now - timedelta(days=days))
    return change_since(then, scores(partner_id, now)[side], now)


def change_since(then: model.TrustTally, current: SideScore, now: datetime) -> tuple[float, bool]:
    """`current` minus the tally `then`, and whether ageing alone explains the difference."""
    faded = then.decayed_to(now, weights().half_life)
    fading_only = abs(faded.r - current.r) < 1e-6 and abs(faded.s - current.s) < 1e-6
    return current.score - then.score(), fading_only


def scores_at(partner_id: int, moments: list[tuple[str, datetime]]) -> list[model.TrustTally]:
    """score_at() for many (side, moment) pairs in two statements: one correlated look-up
    per pair (one backward step along ix_trust_history_partner_side_as_of each), then the
    rows found. The trust page's trend and changes read 28 points this way, not 28 queries."""
    if not moments:
        return []
    lookups = [
        select(TrustHistory.id)
        .where(
            TrustHistory.partner_id == partner_id,
            TrustHistory.side == side,
            TrustHistory.as_of <= moment,
        )
        .order_by(TrustHistory.as_of.desc())
        .limit(1)
        .scalar_subquery()
        for side, moment in moments
    ]
    found = db.session.execute(select(*lookups)).one()
    ids = {history_id for history_id in found if history_id is not None}
    rows = {}
    if ids:
        rows = {
            row.id: row
            for row in db.session.execute(
                select(TrustHistory.id, TrustHistory.r, TrustHistory.s, TrustHistory.as_of).where(
                    TrustHistory.id.in_(ids)
                )
            )
        }
    half_life = weights().half_life
    return [
        _tally(rows.get(history_id)).decayed_to(moment, half_life)  # type: ignore[arg-type]
        for (_, moment), history_id in zip(moments, found, strict=True)
    ]


def trend(
    partner_id: int, side: str, now: datetime, months: int = 12
) -> list[tuple[datetime, SideScore]]:
    """Month-end points over the last `months` months (and now): bounded reads, no replay."""
    moments = trend_moments(now, months)
    tallies = scores_at(partner_id, [(side, moment) for moment in moments])
    return [(m, _side_score(side, tally, 0)) for m, tally in zip(moments, tallies, strict=True)]


def trend_moments(now: datetime, months: int = 12) -> list[datetime]:
    """The trend's points: each of the last `months` month ends (capped at now), and now."""
    moments = []
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for back in range(months, 0, -1):
        year, month = first.year, first.month - back
        while month <= 0:
            month += 12
            year -= 1
        moment = datetime(year, month, 1, tzinfo=UTC) + timedelta(days=32)
        moment = datetime.combine(moment.replace(day=1).date(), time(0), tzinfo=UTC)
        moments.append(min(moment, now))
    moments.append(now)
    return moments


def ledger(partner_id: int, since: datetime | None = None, until: datetime | None = None) -> Select:
    query = select(TrustEvent).where(TrustEvent.partner_id == partner_id)
    if since is not None:
        query = query.where(TrustEvent.at >= since)
    if until is not None:
        query = query.where(TrustEvent.at < until)
    return query.order_by(TrustEvent.at.desc(), TrustEvent.id.desc())


PeriodStats = period.PeriodStats


def period_stats(partner_id: int, since: datetime, until: datetime) -> PeriodStats:
    """Figures for the trust page over the whole UTC days of [since, until]: summed from
    the day counts (services/trust_counts.py), never from the period's ledger rows."""
    return trust_counts.stats(partner_id, since, until)


def explain(event: TrustEvent) -> str:
    """ "-2.1: TR-2026-00042 resolution 9h late against the 8h target, accountable: us"."""
    ref = event.conflict.ref if event.conflict else ""
    weight = f"{event.weight:+.1f}" if event.weight else "No effect yet"
    side = {
        "us": "us",
        "partner": "the partner",
        "shared": "shared",
        "third_party": "a third party",
    }
    accountable = (
        f", accountable: {side.get(event.accountable_side, event.accountable_side)}"
        if event.accountable_side
        else ""
    )
    return f"{weight}: {ref} {event.explanation}{accountable}".replace("  ", " ")


# --- rebuilding and alerts ---------------------------------------------------------------


def rebuild(now: datetime) -> list[tuple[str, str, float, float]]:
    """Recompute every tally from the ledger; returns (partner, side, stored, rebuilt) scores."""
    results = []
    half_life = weights().half_life
    for partner in db.session.scalars(select(Partner).order_by(Partner.name)):
        for side in model.SIDES:
            events = db.session.execute(
                select(TrustEvent.at, TrustEvent.weight).where(
                    TrustEvent.partner_id == partner.id,
                    TrustEvent.side == side,
                    TrustEvent.weight != 0,
                )
            ).all()
            row = db.session.scalar(
                select(TrustScore).where(
                    TrustScore.partner_id == partner.id, TrustScore.side == side
                )
            )
            stored = _tally(row).decayed_to(now, half_life).score()
            rebuilt = model.rebuild([(at, w) for at, w in events], now, half_life)
            if events:
                row = row or _score_row(partner.id, side)
                row.r, row.s, row.as_of, row.events = (
                    rebuilt.r,
                    rebuilt.s,
                    rebuilt.as_of,
                    len(events),
                )
            results.append((partner.name, side, stored, rebuilt.score()))
    db.session.commit()
    return results


def _alert_owner(partner_id: int, key: str, title: str, text: str, now: datetime) -> None:
    """Tell the partner's owner, on the channels they chose for trust alerts, once per key."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.owner_id is None:
        return
    owner = db.session.get(User, partner.owner_id)
    if owner is None or not owner.is_active:
        return
    wanted = preferences.channels_for([owner], preferences.TRUST)[owner.id]
    if preferences.IN_APP in wanted:
        notifications.add_in_app(
            user_id=owner.id,
            conflict_id=None,
            kind="trust_alert",
            title=title,
            dedupe_key=f"{key}:in_app",
            now=now,
        )
    if preferences.EMAIL in wanted:
        outbox.enqueue_email(
            dedupe_key=f"{key}:email",
            address=owner.email,
            subject=f"[Trustomer] {title}"[:300],
            text=render_template("email/trust_alert.txt", title=title, text=text, partner=partner),
            html=None,
            recipient_id=owner.id,
            now=now,
        )


def _alert_if_falling(
    partner_id: int, side: str, at: datetime, before: float, tally: model.TrustTally
) -> None:
    threshold = current_app.config.get("TRUST_DROP_ALERT_POINTS", 10)
    now_score = tally.score()
    if now_score >= before:
        return  # only evidence that lowers the score can trigger the alert
    month_ago = score_at(partner_id, side, at - timedelta(days=30)).score()
    drop = month_ago - now_score
    if drop > threshold:
        partner = db.session.get(Partner, partner_id)
        title = f"{partner.name}: {SIDE_LABELS[side].lower()} fell {drop:.0f} points in 30 days"
        text = (
            f"The {SIDE_LABELS[side].lower()} score of {partner.name} is {now_score:.0f}, "
            f"down from {month_ago:.0f} thirty days ago. A check-in call could help."
        )
        _alert_owner(
            partner_id, f"trust-drop:{partner_id}:{side}:{at.date().isoformat()}", title, text, at
        )


def watch_silence(now: datetime) -> int:
    """Alert owners of partners with no contact (conflict, comment, check-in) for too long."""
    days = current_app.config.get("TRUST_SILENCE_DAYS", 45)
    cutoff = now - timedelta(days=days)
    quiet = db.session.scalars(
        select(Partner).where(
            Partner.active.is_(True),
            func.coalesce(Partner.last_contact_at, Partner.created_at) <= cutoff,
        )
    ).all()
    for partner in quiet:
        since = partner.last_contact_at or partner.created_at
        title = f"No contact with {partner.name} for {(now - since).days} days"
        text = (
            f"Nothing has been heard from or said to {partner.name} since "
            f"{since.date().isoformat()}. Consider a check-in before a conflict finds you first."
        )
        _alert_owner(
            partner.id, f"silence:{partner.id}:{since.date().isoformat()}", title, text, now
        )
    db.session.commit()
    return len(quiet)
