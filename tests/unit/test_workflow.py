"""The whole transition table: every (state, action, actor) is either allowed or refused clearly."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain import workflow as wf

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
ACTORS = (wf.MANAGER, wf.PARTNER, wf.SYSTEM)

# The specification, written out independently of TRANSITIONS.
ALLOWED = {
    ("open", "triage", "manager"): "triaged",
    ("triaged", "wait_on_partner", "manager"): "waiting_on_partner",
    ("waiting_on_partner", "resume", "manager"): "triaged",
    ("waiting_on_partner", "resume", "system"): "triaged",
    ("triaged", "resolve", "manager"): "resolved",
    ("resolved", "accept", "partner"): "closed",
    ("resolved", "dispute", "partner"): "triaged",
    ("closed", "reopen", "partner"): "triaged",
    ("closed", "reopen", "manager"): "triaged",
    ("open", "withdraw", "partner"): "closed",
    ("triaged", "withdraw", "partner"): "closed",
    ("resolved", "auto_close", "system"): "closed",
}

FULL_FIELDS = {
    "severity": "high",
    "category": "delivery",
    "assignee_id": 7,
    "message": "Please send the delivery note.",
    "summary": "Re-delivered on Monday.",
    "root_cause": "capacity",
    "accountable_side": "shared",
    "reason": "raised_in_error",
}

ALL_CASES = [(s, a, r) for s in wf.STATES for a in wf.ACTIONS for r in ACTORS]


@pytest.mark.parametrize(("state", "action", "actor"), ALL_CASES)
def test_transition_table(state: str, action: str, actor: str) -> None:
    kwargs = {
        "now": NOW,
        "fields": FULL_FIELDS,
        "closed_at": NOW - timedelta(days=1),
        "resolved_at": NOW - timedelta(days=8),
    }
    expected = ALLOWED.get((state, action, actor))
    if expected is None:
        with pytest.raises(wf.WorkflowError) as info:
            wf.plan(state, action, actor, **kwargs)
        assert info.value.message  # a sentence for a person, not a code
    else:
        transition, _ = wf.plan(state, action, actor, **kwargs)
        assert transition.target == expected


def test_the_table_has_no_transition_the_specification_lacks() -> None:
    implemented = {
        (s, t.action, r) for t in wf.TRANSITIONS.values() for s in t.sources for r in t.roles
    }
    assert implemented == set(ALLOWED)


@pytest.mark.parametrize(
    ("action", "state", "missing"),
    [
        ("triage", "open", "assignee_id"),
        ("triage", "open", "severity"),
        ("triage", "open", "category"),
        ("wait_on_partner", "triaged", "message"),
        ("resolve", "triaged", "summary"),
        ("resolve", "triaged", "root_cause"),
        ("resolve", "triaged", "accountable_side"),
    ],
)
def test_manager_actions_require_their_fields(action: str, state: str, missing: str) -> None:
    fields = {k: v for k, v in FULL_FIELDS.items() if k != missing}
    with pytest.raises(wf.WorkflowError) as info:
        wf.plan(state, action, wf.MANAGER, now=NOW, fields=fields)
    assert missing in info.value.field_errors


@pytest.mark.parametrize(("action", "state"), [("dispute", "resolved"), ("withdraw", "open")])
def test_partner_actions_require_a_reason(action: str, state: str) -> None:
    with pytest.raises(wf.WorkflowError) as info:
        wf.plan(state, action, wf.PARTNER, now=NOW, fields={"reason": "   "})
    assert "reason" in info.value.field_errors


def test_withdraw_reason_must_be_one_of_the_two() -> None:
    with pytest.raises(wf.WorkflowError):
        wf.plan("open", "withdraw", wf.PARTNER, now=NOW, fields={"reason": "bored"})
    for reason in ("raised_in_error", "settled_elsewhere"):
        wf.plan("open", "withdraw", wf.PARTNER, now=NOW, fields={"reason": reason})


@pytest.mark.parametrize("field", ["severity", "category", "root_cause", "accountable_side"])
def test_choice_fields_reject_unknown_values(field: str) -> None:
    fields = dict(FULL_FIELDS, **{field: "nonsense"})
    action, state = (
        ("triage", "open") if field in ("severity", "category") else ("resolve", "triaged")
    )
    with pytest.raises(wf.WorkflowError) as info:
        wf.plan(state, action, wf.MANAGER, now=NOW, fields=fields)
    assert field in info.value.field_errors


def test_partner_may_reopen_within_30_days_only() -> None:
    fields = {"reason": "It happened again."}
    wf.plan(
        "closed", "reopen", wf.PARTNER, now=NOW, fields=fields, closed_at=NOW - timedelta(days=30)
    )
    with pytest.raises(wf.WorkflowError, match="more than 30 days"):
        wf.plan(
            "closed", "reopen", wf.PARTNER, now=NOW, fields=fields,
            closed_at=NOW - timedelta(days=30, seconds=1),
        )  # fmt: skip
    wf.plan(
        "closed", "reopen", wf.MANAGER, now=NOW, fields=fields, closed_at=NOW - timedelta(days=400)
    )


def test_auto_close_waits_seven_days_after_resolution() -> None:
    with pytest.raises(wf.WorkflowError):
        wf.plan("resolved", "auto_close", wf.SYSTEM, now=NOW, resolved_at=NOW - timedelta(days=6))
    wf.plan("resolved", "auto_close", wf.SYSTEM, now=NOW, resolved_at=NOW - timedelta(days=7))


def test_illegal_action_message_names_the_states_where_it_works() -> None:
    with pytest.raises(wf.WorkflowError) as info:
        wf.plan("open", "resolve", wf.MANAGER, now=NOW, fields=FULL_FIELDS)
    assert "open" in info.value.message and "triaged" in info.value.message


def test_admins_act_as_managers() -> None:
    transition, _ = wf.plan("open", "triage", "admin", now=NOW, fields=FULL_FIELDS)
    assert transition.target == "triaged"


def test_available_actions_offer_what_plan_allows() -> None:
    for state in wf.STATES:
        for actor in (wf.MANAGER, wf.PARTNER):
            offered = {
                t.action
                for t in wf.available_actions(
                    state, actor, now=NOW, closed_at=NOW - timedelta(days=1)
                )
            }
            expected = {a for (s, a, r) in ALLOWED if s == state and r == actor}
            assert offered == expected, (state, actor)


def test_reference_is_readable() -> None:
    assert wf.reference(2026, 42) == "TR-2026-00042"


def test_a_withdrawn_conflict_cannot_be_reopened_by_anyone() -> None:
    for actor in (wf.MANAGER, wf.PARTNER):
        with pytest.raises(wf.WorkflowError, match="withdrawn"):
            wf.plan(
                "closed",
                "reopen",
                actor,
                now=NOW,
                fields={"reason": "x"},
                closed_at=NOW,
                withdrawn=True,
            )
        offered = wf.available_actions("closed", actor, now=NOW, closed_at=NOW, withdrawn=True)
        assert "reopen" not in {t.action for t in offered}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Invoice\r\nBcc: all@example.com", "Invoice Bcc: all@example.com"),
        ("Line\u2028separator\x85here", "Line separator here"),
        ("  tabs\tand   spaces ", "tabs and spaces"),
        ("Zero\u200bwidth", "Zero width"),
        ("Ünïcödé stays", "Ünïcödé stays"),
    ],
)
def test_one_line_removes_breaks_and_controls(raw: str, clean: str) -> None:
    assert wf.one_line(raw) == clean
