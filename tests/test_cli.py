"""Operator commands print what scripts need and refuse bad input clearly."""

from tracker.models import Conflict, Partner, User


def test_partners_create_prints_the_new_id(runner) -> None:
    result = runner.invoke(
        args=[
            "partners",
            "create",
            "Acme Ltd",
            "--tier",
            "strategic",
            "--timezone",
            "Europe/London",
            "--country",
            "GB",
        ]
    )
    assert result.exit_code == 0, result.output
    partner = Partner.query.filter_by(name="Acme Ltd").one()
    assert result.output.strip() == str(partner.id)


def test_partners_create_refuses_an_unknown_timezone(runner) -> None:
    result = runner.invoke(
        args=["partners", "create", "Acme", "--tier", "standard", "--timezone", "EST5"]
    )
    assert result.exit_code != 0
    assert "IANA timezone" in result.output
    assert Partner.query.count() == 0


def test_users_create_prints_the_new_id_and_links_the_partner(runner) -> None:
    runner.invoke(args=["partners", "create", "Acme", "--tier", "standard", "--timezone", "UTC"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "ops@acme.example",
            "--role",
            "partner",
            "--partner",
            "Acme",
            "--password",
            "long-enough-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = User.query.filter_by(email="ops@acme.example").one()
    assert result.output.strip().splitlines()[0] == str(user.id)
    assert user.partner.name == "Acme"


def test_users_create_without_password_prints_an_invite_link(runner) -> None:
    result = runner.invoke(args=["users", "create", "m@trustomer.example", "--role", "manager"])
    assert result.exit_code == 0, result.output
    assert "/auth/invite/" in result.output


def test_users_create_refuses_a_partner_user_without_partner(runner) -> None:
    result = runner.invoke(args=["users", "create", "x@acme.example", "--role", "partner"])
    assert result.exit_code != 0
    assert "must belong to a partner" in result.output


def test_demo_seed_is_idempotent(runner) -> None:
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    counts = (Partner.query.count(), User.query.count())
    assert counts[0] == 3
    assert User.query.filter_by(role="manager").count() == 2
    assert User.query.filter_by(role="admin").count() == 1
    for partner in Partner.query.all():
        assert len(partner.users) == 2
    assert len({p.tier for p in Partner.query}) == 3
    assert len({p.timezone for p in Partner.query}) == 3
    states = {c.status for c in Conflict.query}
    assert {"open", "triaged", "waiting_on_partner", "closed"} <= states
    conflict_count = Conflict.query.count()
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert (Partner.query.count(), User.query.count()) == counts
    assert Conflict.query.count() == conflict_count


def test_demo_seed_if_empty_leaves_a_used_database_alone(runner) -> None:
    runner.invoke(args=["users", "create", "solo@trustomer.example", "--role", "admin"])
    result = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0
    assert "skipped" in result.output
    assert Partner.query.count() == 0
