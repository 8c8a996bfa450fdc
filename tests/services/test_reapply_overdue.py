"""Re-applying an agreement never moves a due time that has already passed."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tests.services.test_agreements import _policy, _targets
from tracker.extensions import db
from tracker.models import Conflict
from tracker.services import agreements, sla


def _fresh(conflict_id: int) -> Conflict:
    db.session.expire_all()
    return db.session.get(Conflict, conflict_id)


def test_reapply_on_a_conflict_four_days_overdue_keeps_its_due_time(app) -> None:
    admin = make_admin()
    policy = _policy(tier="standard", targets=_targets(high=(60, 480)))
    author = make_partner_user(partner=make_partner(tier="standard"))
    conflict = make_conflict(author, severity="high", now=WHEN)
    triage(conflict, make_manager(), now=WHEN + timedelta(minutes=30))
    due_before = _fresh(conflict.id).resolution_due_at
    four_days_late = due_before + timedelta(days=4)
    sla.refresh(_fresh(conflict.id), four_days_late)
    db.session.commit()
    agreements.update_policy(
        policy.id, name=policy.name, tier="standard", targets=_targets(high=(30, 240)),
        now=four_days_late,
    )  # fmt: skip

    assert agreements.reapply_policy(admin, policy.id, four_days_late + timedelta(minutes=7)) == 1

    after = _fresh(conflict.id)
    assert after.resolution_due_at == due_before
    assert after.sla_due_at == due_before
    assert after.resolution_target_seconds == 480 * 60  # the terms it was missed under
    assert after.sla_state == "breached"


def test_reapply_on_an_untriaged_overdue_conflict_keeps_its_triage_due_time(app) -> None:
    admin = make_admin()
    policy = _policy(tier="standard", targets=_targets(high=(60, 4800)))
    author = make_partner_user(partner=make_partner(tier="standard"))
    conflict = make_conflict(author, severity="high", now=WHEN)
    triage_due = _fresh(conflict.id).triage_due_at
    agreements.update_policy(
        policy.id, name=policy.name, tier="standard", targets=_targets(high=(240, 4800)),
        now=WHEN,
    )  # fmt: skip

    agreements.reapply_policy(admin, policy.id, triage_due + timedelta(days=2))

    after = _fresh(conflict.id)
    assert after.triage_due_at == triage_due
    assert after.triage_target_seconds == 60 * 60


def test_reapply_still_moves_deadlines_that_have_not_passed(app) -> None:
    admin = make_admin()
    policy = _policy(tier="standard", targets=_targets(high=(60, 480)))
    author = make_partner_user(partner=make_partner(tier="standard"))
    conflict = make_conflict(author, severity="high", now=WHEN)
    due_before = _fresh(conflict.id).resolution_due_at
    agreements.update_policy(
        policy.id, name=policy.name, tier="standard", targets=_targets(high=(60, 960)), now=WHEN
    )

    agreements.reapply_policy(admin, policy.id, WHEN + timedelta(minutes=5))

    after = _fresh(conflict.id)
    assert after.resolution_target_seconds == 960 * 60
    assert after.resolution_due_at > due_before
