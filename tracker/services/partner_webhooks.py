"""Partners' outgoing webhooks: their systems hear of their own conflicts' public events.

Deliveries go through the outbox (signed, retried); the signing secret is looked up at
send time through the "partner_webhook:" resolver registered below.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from tracker.channels import DeliveryError, addresses
from tracker.channels.addresses import IPAddress
from tracker.channels.webhook import Targets
from tracker.clock import utcnow
from tracker.database import grouped_once, lock_for_write
from tracker.domain import workflow
from tracker.domain.events import TimelineRecorded
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, Partner, PartnerWebhook, User
from tracker.models.conflict import PUBLIC
from tracker.services import admin_audit, links, messagebus, outbox, timeline
from tracker.services.errors import InvalidInput, NotFound, PermissionDenied

CREATED = "conflict.created"
STATE_CHANGED = "conflict.state_changed"
PUBLIC_COMMENT = "conflict.public_comment"
ESCALATED = "conflict.escalated"
RESOLVED = "conflict.resolved"
EVENTS = {
    CREATED: N_("A conflict was raised"),
    STATE_CHANGED: N_("A conflict changed state"),
    PUBLIC_COMMENT: N_("A public comment or reply"),
    ESCALATED: N_("A conflict's SLA was escalated"),
    RESOLVED: N_("A conflict was resolved"),
}
SECRET_PREFIX = "partner_webhook:"  # noqa: S105 - a name, not a secret
MAX_URL = 500
MAX_ACTIVE_HOOKS = 5
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _secret_for(secret_ref: str) -> str | None:
    try:
        hook_id = int(secret_ref.removeprefix(SECRET_PREFIX))
    except ValueError:
        return None
    hook = db.session.get(PartnerWebhook, hook_id)
    if hook is None or not hook.active or not hook.partner.active:
        return None
    if not deliverable(hook.url):
        raise DeliveryError(
            N_("the endpoint is no longer a public address we may call; not sent"), retryable=False
        )
    return hook.secret


def _may_call(host: str, address: IPAddress) -> bool:
    """At send time, for every address the host resolves to (see `Targets`)."""
    if addresses.is_public(address):
        return True
    return _loopback_http_allowed() and host in _LOOPBACK_HOSTS and address.is_loopback


# Resolved once at send time, through `resolve` (tests answer for the hosts they invent), and
# the connection pinned to the address that was checked: DNS cannot change it in between.
TARGETS = Targets(resolve=lambda *args, **kwargs: resolve(*args, **kwargs), allows=_may_call)
outbox.register_secret_resolver(SECRET_PREFIX, _secret_for, targets=TARGETS)


# --- managing hooks ----------------------------------------------------------------------


def _require_partner(actor: User) -> int:
    if not actor.is_partner or actor.partner_id is None:
        raise PermissionDenied(
            N_("Only a partner's users can manage their organisation's webhooks.")
        )
    return actor.partner_id


def _loopback_http_allowed() -> bool:
    config = current_app.config
    return bool(config.get("TESTING")) or config.get("ENV_NAME") == "development"


def check_url(url: str) -> str:
    """An https:// URL to a public host (plain http only to this machine, in tests and development).

    Webhooks are requests made from inside our network with partner-written text in them:
    a host that is, or resolves to, a loopback, private, link-local, multicast or other
    non-global address (cloud metadata, databases, admin consoles), in any spelling or
    wrapping (0x7f.1, ::ffff:127.0.0.1, 64:ff9b::a00:1, 2002:7f00:1::), is refused. At
    delivery the host is resolved again, once, and the connection pinned to the checked
    address (see TARGETS), since DNS answers can change.
    """
    return _checked_url(url, resolve_host=True)


def _checked_url(url: str, *, resolve_host: bool) -> str:
    text = (url or "").strip()
    problem = None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" around an IPv6 address
        problem = "The URL is malformed."
        raise InvalidInput(problem, field_errors={"url": problem}) from None
    try:
        port = parts.port
    except ValueError:
        port, problem = None, "The URL's port is not a number between 1 and 65535."
    if problem:
        pass
    elif not text or len(text) > MAX_URL:
        problem = f"Give the endpoint's URL (at most {MAX_URL} characters)."
    elif any(ord(ch) < 33 or ord(ch) == 127 for ch in text) or not text.isprintable():
        problem = "The URL contains spaces or control characters."
    elif not parts.hostname or parts.scheme not in ("https", "http"):
        problem = "The URL must start with https:// and name a host."
    elif parts.scheme == "http" and not (
        parts.hostname in _LOOPBACK_HOSTS and _loopback_http_allowed()
    ):
        problem = "The URL must use https://."
    elif parts.username or parts.password:
        problem = "Put no user name or password in the URL."
    elif port is not None and port == 0:
        problem = "The URL's port is not a number between 1 and 65535."
    elif not (_loopback_http_allowed() and parts.hostname in _LOOPBACK_HOSTS):
        problem = _public_host_problem(parts.hostname, port or 443, resolve_host)
    if problem:
        raise InvalidInput(problem, field_errors={"url": problem})
    return text


# Name resolution, as a module attribute so tests can answer for hosts they invent.
resolve = socket.getaddrinfo


_NOT_PUBLIC = "The URL must point to a public internet address, not an internal one."


def _public_host_problem(host: str, port: int, resolve_host: bool) -> str | None:
    """None when the host is, or resolves only to, globally routable unicast addresses."""
    try:
        literal = addresses.ip_literal(host)
    except ValueError:
        return "The URL's host is not a valid address."
    if literal is not None:
        return None if addresses.is_public(literal) else _NOT_PUBLIC
    if not resolve_host:
        return None
    try:
        infos = resolve(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return f"The host {host!r} could not be resolved."
    for info in infos:
        try:
            address = addresses.ip_literal(str(info[4][0]))
        except ValueError:
            address = None
        if address is None or not addresses.is_public(address):
            return _NOT_PUBLIC
    return None


def deliverable(url: str) -> bool:
    """Whether a stored URL is still one we would register, apart from DNS.

    Its host's addresses are checked when it is called, resolved once (see TARGETS).
    """
    try:
        _checked_url(url, resolve_host=False)
    except InvalidInput:
        return False
    return True


def create(
    actor: User, *, url: str, events: list[str] | None, now: datetime, resolved: bool = False
) -> tuple[PartnerWebhook, str]:
    """Register an endpoint for the actor's organisation; returns it and its signing secret.

    `resolved`: the caller has already run `check_url(url)` (DNS included) before opening
    its transaction, as the API does: a lookup on a partner's slow name server must never
    run while a write lock is held.
    """
    partner_id = _require_partner(actor)
    clean_url = _checked_url(url, resolve_host=not resolved)
    # Count under a lock (the partner's row; SQLite's write lock): two registrations at once
    # must not both see four active hooks and make it six.
    lock_for_write(db.session)
    db.session.scalar(select(Partner.id).where(Partner.id == partner_id).with_for_update())
    active = db.session.scalars(
        select(PartnerWebhook.url).where(
            PartnerWebhook.partner_id == partner_id, PartnerWebhook.active.is_(True)
        )
    ).all()
    if clean_url in active:
        problem = "This endpoint is already registered."
        raise InvalidInput(problem, field_errors={"url": problem})
    if len(active) >= MAX_ACTIVE_HOOKS:
        problem = (
            f"At most {MAX_ACTIVE_HOOKS} active webhooks per organisation: deactivate one first."
        )
        raise InvalidInput(problem, field_errors={"url": problem})
    chosen = list(dict.fromkeys(events)) if events else list(EVENTS)
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        message = f"Unknown events: {', '.join(unknown)}. Choose from: {', '.join(EVENTS)}."
        raise InvalidInput(message, field_errors={"events": message})
    secret = secrets.token_hex(32)
    hook = PartnerWebhook(
        partner_id=partner_id,
        url=clean_url,
        secret=secret,
        events=chosen,
        active=True,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(hook)
    db.session.flush()
    after = {"partner_id": partner_id, "url": clean_url, "events": chosen}  # never the secret
    audit = admin_audit.changed(
        actor, "webhook.created", f"webhook:{hook.id} {clean_url}", after=after
    )
    messagebus.publish([audit], now)
    db.session.commit()
    return hook, secret


def for_partner(actor: User) -> list[PartnerWebhook]:
    """The actor's organisation's webhooks, newest first."""
    partner_id = _require_partner(actor)
    return list(
        db.session.scalars(
            select(PartnerWebhook)
            .where(PartnerWebhook.partner_id == partner_id)
            .order_by(PartnerWebhook.id.desc())
        )
    )


def deactivate(actor: User, hook_id: int, now: datetime | None = None) -> PartnerWebhook:
    """Stop deliveries to one of the organisation's webhooks (pending ones then fail)."""
    partner_id = _require_partner(actor)
    hook = db.session.get(PartnerWebhook, hook_id)
    if hook is None or hook.partner_id != partner_id:
        raise NotFound(N_("No such webhook."))
    if hook.active:
        hook.active = False
        audit = admin_audit.changed(
            actor, "webhook.deactivated", f"webhook:{hook.id} {hook.url}",
            before={"active": True}, after={"active": False},
        )  # fmt: skip
        messagebus.publish([audit], now or utcnow())
        db.session.commit()
    return hook


# --- delivering events -------------------------------------------------------------------


def event_names(event: ConflictEvent) -> list[str]:
    """The webhook events a conflict event may be announced as, most specific first."""
    if event.visibility != PUBLIC:
        return []
    if event.kind == "submitted":
        return [CREATED]
    if event.kind in ("comment", "reply"):
        return [PUBLIC_COMMENT]
    if event.kind == "escalated":
        return [ESCALATED]
    if event.kind == "status_changed":
        to = (event.data or {}).get("to")
        return [RESOLVED, STATE_CHANGED] if to == workflow.RESOLVED else [STATE_CHANGED]
    return []


def payload(conflict: Conflict, event: ConflictEvent, name: str) -> dict[str, Any]:
    """What the partner's system receives: only what the partner's own portal shows."""
    body: dict[str, Any] = {
        "event": name,
        "event_id": event.id,
        "occurred_at": event.created_at.isoformat(),
        "conflict": {
            "id": conflict.id,
            "ref": conflict.ref,
            "title": conflict.title,
            "status": conflict.status,
            "severity": conflict.severity,
            "category": conflict.category,
            "partner": {"id": conflict.partner_id, "name": conflict.partner.name},
            "url": links.conflict_url(conflict, staff=False),
        },
    }
    data = event.data or {}
    if event.kind == "status_changed":
        body["change"] = {
            "from": data.get("from"),
            "to": data.get("to"),
            "action": data.get("action"),
        }
    elif event.kind in ("comment", "reply"):
        body["comment"] = {
            "body": event.body,
            "author": event.actor.name if event.actor else None,
        }
    elif event.kind == "escalated":
        body["escalation"] = {"level": data.get("level")}
    return body


def on_timeline(event: TimelineRecorded, now: datetime) -> None:
    """Queue one delivery per active hook of the conflict's partner that wants this entry.

    A consumer of the bus: public entries only, in the caller's transaction.
    """
    entry = timeline.entry(event.event_id)
    conflict = entry.conflict
    names = event_names(entry)
    if not names or not conflict.partner.active:
        return
    for hook in _active_hooks([conflict.partner_id])[conflict.partner_id]:
        name = next((n for n in names if n in (hook.events or [])), None)
        if name is None:
            continue
        outbox.enqueue_webhook(
            dedupe_key=f"pwh:{hook.id}:{entry.id}",
            url=hook.url,
            payload=payload(conflict, entry, name),
            secret_ref=f"{SECRET_PREFIX}{hook.id}",
            conflict_id=conflict.id,
            now=now,
        )


def _active_hooks(partner_ids: Iterable[int]) -> dict[int, list[PartnerWebhook]]:
    """The active hooks of these partners; the ones not yet read, in one statement."""
    return grouped_once(
        db.session,
        "partner_hooks",
        PartnerWebhook.partner_id,
        partner_ids,
        _ACTIVE_HOOK,
    )


_ACTIVE_HOOK = PartnerWebhook.active.is_(True)  # built once: a sweep asks per entry


@messagebus.batched
def prime_hooks(events: list[TimelineRecorded], now: datetime) -> None:
    """Read the hooks of a run of entries' partners at once (a sweep's batch announces many)."""
    if len(events) > 1:
        _active_hooks(timeline.entry(event.event_id).conflict.partner_id for event in events)
