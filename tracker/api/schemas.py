"""Request and response schemas: one set of classes validates requests and writes the contract."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from tracker.domain import escalation, workflow
from tracker.domain.clock import SLA_STATES, WEEKDAY_KEYS
from tracker.services.api_tokens import SCOPES
from tracker.services.partner_webhooks import EVENTS as WEBHOOK_EVENTS

MAX_ID = 2**31 - 1  # the database's integer: larger ids cannot exist


def _enum(name: str, values: Any, doc: str) -> type[StrEnum]:
    enum = StrEnum(name, {str(v): str(v) for v in values})  # type: ignore[misc]
    enum.__doc__ = doc
    return enum


Category = _enum("Category", workflow.CATEGORIES, "What a conflict is about.")
Severity = _enum("Severity", workflow.SEVERITIES, "How much a conflict hurts.")
Status = _enum("Status", workflow.STATES, "Where a conflict is in its lifecycle.")
RootCause = _enum("RootCause", workflow.ROOT_CAUSES, "Why a conflict happened (on resolving).")
AccountableSide = _enum(
    "AccountableSide", workflow.ACCOUNTABLE_SIDES, "Who was accountable (on resolving)."
)
Action = _enum(
    "Action",
    [a for a in workflow.ACTIONS if a != "auto_close"],
    "A workflow action; see the conflict lifecycle for who may take which.",
)
WithdrawReason = _enum("WithdrawReason", workflow.WITHDRAW_REASONS, "Why a conflict is withdrawn.")
SlaState = _enum("SlaState", SLA_STATES, "The SLA state of a conflict's clocks.")
EscalationLevel = _enum("EscalationLevel", escalation.LEVELS, "How far an SLA clock has run over.")
Clock = _enum("Clock", ("triage", "resolution"), "Which SLA clock.")
Visibility = _enum("Visibility", ("public", "internal"), "Who may see an event.")
WebhookEvent = _enum("WebhookEvent", WEBHOOK_EVENTS, "A conflict event a partner webhook hears.")
Scope = _enum("Scope", SCOPES, "What a token may do.")


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("a time that cannot be expressed in UTC") from exc


# Times: ISO 8601 with an offset, in UTC; an offset is required on input.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda v: v.astimezone(UTC).isoformat(), return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "date-time"}),
]
# RFC 3339 date-time, as the document says: pydantic alone would also take Unix times ("0.5").
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("an RFC 3339 date-time with an offset, e.g. 2026-11-16T09:00:00Z")
    return value


def _query_bool(value: Any) -> Any:
    # A query string's boolean is "true" or "false" (OpenAPI's form), not "yes", "1" or "on".
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("true or false")
    return value


AwareTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_utc)]
QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# No NUL characters: PostgreSQL cannot store them in text.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ----------------------------------------------------------------------------


class ConflictCreate(Strict):
    """Raise a conflict. Managers raise one on a partner's behalf and must give `partner_id`."""

    title: Annotated[Text, Field(min_length=5, max_length=200)]
    description: Annotated[Text, Field(min_length=1, max_length=workflow.MAX_TEXT)]
    category: Category
    severity: Severity
    partner_id: Id | None = Field(default=None, description="Managers only; partners omit it.")


class ActionRequest(Strict):
    """A workflow action and the fields it needs.

    triage: severity, category, assignee_id · wait_on_partner: message · resolve: summary,
    root_cause, accountable_side · dispute, reopen: reason · withdraw: reason (one of
    WithdrawReason) · resume, accept: nothing.
    """

    action: Action
    severity: Severity | None = None
    category: Category | None = None
    assignee_id: Id | None = None
    message: Annotated[Text, Field(max_length=workflow.MAX_TEXT)] | None = None
    summary: Annotated[Text, Field(max_length=workflow.MAX_TEXT)] | None = None
    root_cause: RootCause | None = None
    accountable_side: AccountableSide | None = None
    reason: Annotated[Text, Field(max_length=workflow.MAX_TEXT)] | None = Field(
        default=None, description="Free text for dispute and reopen; a WithdrawReason for withdraw."
    )

    def fields(self) -> dict[str, Any]:
        """The action's fields as the workflow expects them (plain strings and ints)."""
        values = self.model_dump(exclude={"action"}, exclude_none=True, mode="json")
        return values


class CommentCreate(Strict):
    """A public comment or reply, or (managers only) an internal note."""

    body: Annotated[Text, Field(min_length=1, max_length=workflow.MAX_TEXT)]
    internal: bool = False


class AcknowledgeRequest(Strict):
    note: Annotated[Text, Field(max_length=2000)] = ""


class WebhookCreate(Strict):
    """Register an HTTPS endpoint of your organisation; the signing secret is shown once."""

    url: Annotated[Text, Field(min_length=1, max_length=500)]
    events: list[WebhookEvent] | None = Field(
        default=None, min_length=1, description="Omit for every event."
    )


class Paging(Strict):
    cursor: Annotated[Text, Field(max_length=200)] | None = Field(
        default=None, description="From the previous page's `next` link."
    )
    limit: int = Field(default=25, ge=1, le=100)


class ConflictQuery(Paging):
    q: Annotated[Text, Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="Words of titles, descriptions, comments or a reference, each matched as "
        "a whole word in any of its forms, the last also as a word beginning; every word "
        "must be present. With q the list is best match first "
        "and each item carries `match`; punctuation alone matches nothing.",
    )
    status: Status | None = None
    partner_id: Id | None = None
    severity: Severity | None = None
    assignee_id: Id | None = None
    sla_state: SlaState | None = None
    updated_since: AwareTime | None = Field(
        default=None, description="RFC 3339 date-time with offset, e.g. 2026-11-16T09:00:00Z."
    )


class EstimateQuery(Strict):
    category: Category
    severity: Severity
    partner_id: Id | None = Field(
        default=None, description="Managers: the partner whose calendar dates are counted in."
    )


class EscalationQuery(Paging):
    level: EscalationLevel | None = None
    acknowledged: QueryBool | None = None


class NotificationQuery(Paging):
    unread: QueryBool | None = None


class TrustQuery(Strict):
    since: AwareTime | None = Field(
        default=None,
        description="Only ledger events at or after this time (RFC 3339, with offset).",
    )
    limit: int = Field(default=50, ge=1, le=500, description="Newest ledger events first.")


class AuditChainQuery(Paging):
    partner_id: Id | None = Field(
        default=None,
        description="Staff: one partner's chains (all when omitted); partners get their own.",
    )


# --- responses ---------------------------------------------------------------------------


class PartnerRef(BaseModel):
    id: int
    name: str


class UserRef(BaseModel):
    id: int
    name: str


class ConflictRef(BaseModel):
    id: int
    ref: str | None


class Sla(BaseModel):
    triage_due_at: Timestamp | None
    resolution_due_at: Timestamp | None
    state: SlaState
    paused: bool = Field(description="The resolution clock waits on the partner.")
    partner_wait_seconds: int = Field(description="Business seconds spent waiting on the partner.")


class Links(BaseModel):
    """Repeat incidents (internal: empty for partners)."""

    repeat_of: ConflictRef | None
    repeated_by: list[ConflictRef]


class MatchedText(BaseModel):
    """A piece of a search result's passage; `hit` pieces are the words that matched."""

    text: str
    hit: bool


class Conflict(BaseModel):
    id: int
    ref: str | None
    partner: PartnerRef
    title: str
    description: str
    category: Category
    severity: Severity
    status: Status
    assignee: UserRef | None = Field(description="Null for partners.")
    created_at: Timestamp
    updated_at: Timestamp
    triaged_at: Timestamp | None
    resolved_at: Timestamp | None
    closed_at: Timestamp | None
    sla: Sla
    escalation_level: EscalationLevel | None
    accountable_side: AccountableSide | None
    links: Links
    url: str = Field(description="The conflict's page for the caller (console or portal).")
    match: list[MatchedText] | None = Field(
        default=None, description="Only in a search (`q`): the best-matching passage."
    )


class Estimate(BaseModel):
    """How long conflicts like this took to a first resolution over the last 12 months, in
    business hours; the figures are null with fewer than 5 conflicts (`shown` false)."""

    category: Category
    severity: Severity
    months: int
    conflicts: int
    shown: bool
    median_business_hours: int | None
    p90_business_hours: int | None
    median_date: date | None = Field(description="From now, in the partner's timezone.")
    p90_date: date | None


class ConflictPage(BaseModel):
    items: list[Conflict]
    next: str | None = Field(description="The next page's URL; null on the last page.")


class Event(BaseModel):
    """One entry of a conflict's timeline; partners get public ones only."""

    id: int
    kind: str
    visibility: Visibility
    created_at: Timestamp
    actor: UserRef | None
    body: str | None
    data: dict[str, Any] | None


class EventList(BaseModel):
    items: list[Event]


class Partner(BaseModel):
    id: int
    name: str
    tier: str
    timezone: str
    country: str | None
    active: bool


class PartnerList(BaseModel):
    items: list[Partner]


class Targets(BaseModel):
    """Business minutes."""

    triage: int
    resolution: int


Span = Annotated[list[str], Field(min_length=2, max_length=2, description='["09:00", "17:00"]')]


class WeeklyHours(BaseModel):
    mon: list[Span]
    tue: list[Span]
    wed: list[Span]
    thu: list[Span]
    fri: list[Span]
    sat: list[Span]
    sun: list[Span]


assert tuple(WeeklyHours.model_fields) == WEEKDAY_KEYS


class Agreement(BaseModel):
    """The SLA agreement in force for the partner's new conflicts."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    timezone: str
    always_open: bool = Field(
        alias="24x7", description="Every instant counts; hours and holidays are ignored."
    )
    hours: WeeklyHours
    holidays: list[date]
    holiday_country: str | None = Field(description="Its public holidays count as holidays too.")
    targets: dict[str, Targets] = Field(description="Per severity.")
    warning_percent: int
    critical_percent: int


class TrustSide(BaseModel):
    """One side's expected trust (0-100) and its 90% credible interval; r and s decayed to as_of."""

    score: float
    interval: Annotated[list[float], Field(min_length=2, max_length=2)]
    r: float
    s: float


class TrustLedgerEvent(BaseModel):
    at: Timestamp
    conflict_ref: str | None
    kind: str
    side: Literal["delivery", "responsiveness"]
    weight: float
    rule: str
    explanation: str


class Trust(BaseModel):
    """The partnership's trust record: the same numbers the trust page shows."""

    as_of: Timestamp
    half_life_days: int
    delivery: TrustSide
    responsiveness: TrustSide
    events: list[TrustLedgerEvent]


class Escalation(BaseModel):
    id: int
    conflict: ConflictRef
    partner: PartnerRef
    clock: Clock
    level: EscalationLevel
    cycle: int
    fired_at: Timestamp
    due_at: Timestamp | None
    acknowledged_at: Timestamp | None
    acknowledged_by: UserRef | None
    acknowledgement_note: str | None
    reminders_sent: int
    closed_at: Timestamp | None


class EscalationPage(BaseModel):
    items: list[Escalation]
    next: str | None


class Notification(BaseModel):
    id: int
    kind: str
    title: str
    conflict: ConflictRef | None
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationPage(BaseModel):
    items: list[Notification]
    next: str | None


class Webhook(BaseModel):
    id: int
    url: str
    events: list[WebhookEvent]
    active: bool
    created_at: Timestamp


class WebhookCreated(Webhook):
    secret: str = Field(description="Signs each delivery (X-Trustomer-Signature); shown once.")


class WebhookList(BaseModel):
    items: list[Webhook]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, str] | None = Field(default=None, description="Per field, for 422.")


class AuditChainEntry(BaseModel):
    """One link: a public event with its hashed content, an internal one with its hash only."""

    seq: int
    prev_hash: str
    hash: str
    visibility: Visibility
    content: dict[str, Any] | None = Field(
        default=None, description="Public events: exactly what was hashed (canonical JSON)."
    )
    content_hash: str | None = Field(
        default=None,
        description="Internal events: SHA-256 of their canonical content with a secret "
        "random salt (a commitment: a guessed text cannot be checked against it).",
    )


class AuditChain(BaseModel):
    """One conflict's chain; `head` is the hash of its last entry, `length` its place."""

    chain: str
    conflict_id: int
    ref: str | None
    length: int
    head: str
    entries: list[AuditChainEntry]


class AuditChainPage(BaseModel):
    """A page of the chains; verify with scripts/verify_chain.py (see the README)."""

    format: str
    generated_at: str
    partner_id: int | None
    chains: list[AuditChain]
    next: str | None = Field(description="The next page's URL; null on the last page.")
