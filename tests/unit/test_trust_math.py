"""Trust math by hand: expected trust, Beta quantiles, decay and each evidence rule."""

import math
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import pytest

from tracker.domain.trust import (
    DEFAULT_WEIGHTS,
    TrustTally,
    TrustWeights,
    beta_cdf,
    beta_ppf,
    decay_factor,
    dispute_evidence,
    expected_trust,
    partner_wait_evidence,
    rating_evidence,
    rebuild,
    reopen_evidence,
    resolution_evidence,
)

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
HALF_LIFE = timedelta(days=90)
HOUR = timedelta(hours=1)
EXPECTATION = 16 * HOUR  # two business days of eight hours


def simpson(f, lo: float, hi: float, steps: int = 2000) -> float:  # type: ignore[no-untyped-def]
    """Composite Simpson's rule: an integration that shares no code with trust.py."""
    h = (hi - lo) / steps
    total = f(lo) + f(hi)
    total += 4 * sum(f(lo + i * h) for i in range(1, steps, 2))
    total += 2 * sum(f(lo + i * h) for i in range(2, steps, 2))
    return total * h / 3


def exact_beta_cdf(x: Fraction, a: int, b: int) -> Fraction:
    """I_x(a, b) for whole a, b, exactly: P(Binomial(a + b - 1, x) >= a)."""
    n = a + b - 1

    def terms(js: range) -> Fraction:
        return sum((math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in js), Fraction(0))

    if b <= a:
        return terms(range(a, n + 1))  # b terms
    return 1 - terms(range(a))  # a terms


# --- expected trust ----------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "s", "expected"),
    [
        (0, 0, 0.5),  # (0 + 1) / (0 + 0 + 2) = 1/2: no evidence is a coin toss
        (8, 2, 0.75),  # (8 + 1) / (8 + 2 + 2) = 9/12
        (1, 0, 2 / 3),  # (1 + 1) / (1 + 0 + 2)
        (0, 1, 1 / 3),  # (0 + 1) / (0 + 1 + 2)
        (98, 0, 0.99),  # (98 + 1) / (98 + 2) = 99/100
        (3.5, 1.5, 4.5 / 7),  # fractional evidence: 4.5 / 7
        (10_000, 10_000, 0.5),  # balanced evidence stays at one half
    ],
)
def test_expected_trust_is_the_beta_mean(r: float, s: float, expected: float) -> None:
    assert expected_trust(r, s) == pytest.approx(expected, rel=1e-15)
    assert TrustTally(r, s).expected == pytest.approx(expected, rel=1e-15)
    assert TrustTally(r, s).score() == pytest.approx(100 * expected, rel=1e-15)


def test_score_is_not_rounded() -> None:
    # (1 + 1) / (1 + 0 + 2) = 0.6666...: rounding is the display's concern.
    assert TrustTally(1, 0).score() == pytest.approx(200 / 3, rel=1e-15)
    assert TrustTally(1, 0).score() != round(200 / 3, 1)


@pytest.mark.parametrize(("r", "s"), [(-1, 0), (0, -0.5), (math.nan, 0), (0, math.inf)])
def test_evidence_must_be_finite_and_not_negative(r: float, s: float) -> None:
    with pytest.raises(ValueError, match="Evidence must be finite"):
        expected_trust(r, s)
    with pytest.raises(ValueError, match="Evidence must be finite"):
        TrustTally(r, s)


# --- the Beta distribution -----------------------------------------------------


@pytest.mark.parametrize(
    ("x", "a", "b", "expected"),
    [
        (0.3, 1, 1, 0.3),  # Beta(1, 1) is uniform: F(x) = x
        (0.3, 2, 1, 0.09),  # Beta(2, 1): F(x) = x^2 = 0.09
        (0.3, 1, 2, 0.51),  # Beta(1, 2): F(x) = 1 - (1 - x)^2 = 1 - 0.49
        (0.5, 10, 10, 0.5),  # symmetric about one half
        (0.9, 2.5, 1, 0.9**2.5),  # Beta(a, 1): F(x) = x^a, fractional a too
        (0.001, 1, 10_000.5, 1 - 0.999**10_000.5),  # Beta(1, b): F(x) = 1 - (1 - x)^b
        (0.999, 10_001, 1, 0.999**10_001),  # the most lopsided evidence we support
        (0.0, 3, 7, 0.0),
        (-0.5, 3, 7, 0.0),
        (1.0, 3, 7, 1.0),
        (1.5, 3, 7, 1.0),
    ],
)
def test_beta_cdf_matches_closed_forms(x: float, a: float, b: float, expected: float) -> None:
    assert beta_cdf(x, a, b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("q", "a", "b", "expected"),
    [
        (0.05, 1, 1, 0.05),  # uniform: the quantile is q itself
        (0.95, 1, 1, 0.95),
        (0.05, 2, 1, math.sqrt(0.05)),  # x^2 = q
        (0.05, 1, 2, 1 - math.sqrt(0.95)),  # 1 - (1 - x)^2 = q
        (0.5, 10, 10, 0.5),  # the median of a symmetric Beta
        (0.05, 1, 10_001, 1 - 0.95 ** (1 / 10_001)),  # 1 - (1 - x)^10001 = 0.05
        (0.95, 10_001, 1, 0.95 ** (1 / 10_001)),  # x^10001 = 0.95
        (0.0, 3, 7, 0.0),
        (1.0, 3, 7, 1.0),
    ],
)
def test_beta_ppf_matches_closed_forms(q: float, a: float, b: float, expected: float) -> None:
    assert beta_ppf(q, a, b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_beta_3_7_five_percent_quantile_matches_tables_and_integration() -> None:
    x = beta_ppf(0.05, 3, 7)
    assert x == pytest.approx(0.0977, abs=5e-5)  # the tabulated value
    # B(3, 7) = 2! 6! / 9! = 1/252, so the density is 252 x^2 (1 - x)^6;
    # integrating it from 0 to the quantile must give back 5%.
    area = simpson(lambda t: 252 * t**2 * (1 - t) ** 6, 0.0, x)
    assert area == pytest.approx(0.05, abs=1e-12)
    # The same number exactly: P(Binomial(9, x) >= 3).
    assert float(exact_beta_cdf(Fraction(x), 3, 7)) == pytest.approx(0.05, abs=1e-14)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [
        (1001, 11, Fraction(989, 1000)),
        (11, 1001, Fraction(11, 1000)),
        (10_001, 21, Fraction(998, 1000)),
        (21, 10_001, Fraction(15, 10_000)),
        (10_001, 1, Fraction(99_995, 100_000)),
        (1, 10_001, Fraction(1, 100_000)),
    ],
)
def test_beta_cdf_agrees_with_exact_binomial_sums_for_large_shapes(
    a: int, b: int, x: Fraction
) -> None:
    assert beta_cdf(float(x), a, b) == pytest.approx(float(exact_beta_cdf(x, a, b)), abs=1e-9)


@pytest.mark.parametrize(("a", "b"), [(2500.5, 7500.25), (10_001, 9_000.75), (40.2, 13.3)])
@pytest.mark.parametrize("z", [-2.0, -0.5, 0.0, 1.0, 2.5])
def test_beta_cdf_agrees_with_integration_for_fractional_shapes(
    a: float, b: float, z: float
) -> None:
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    lo, hi = max(mean - 30 * sd, 0.0), min(mean + 30 * sd, 1.0)
    x = min(max(mean + z * sd, lo), hi)
    mode = (a - 1) / (a + b - 2)

    # Unnormalised density, scaled to 1 at the mode; normalising by the whole
    # integral keeps lgamma (and everything else in trust.py) out of the check.
    def density(t: float) -> float:
        if t <= 0.0 or t >= 1.0:
            return 0.0
        log_ratio = (a - 1) * math.log(t / mode) + (b - 1) * math.log((1 - t) / (1 - mode))
        return math.exp(log_ratio)

    expected = simpson(density, lo, x, 4000) / simpson(density, lo, hi, 4000)
    assert beta_cdf(x, a, b) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b"), [(1, 1), (3, 7), (1001, 11), (10_001, 10_001), (1, 10_001), (5000.5, 1.25)]
)
@pytest.mark.parametrize("q", [1e-6, 0.05, 0.5, 0.95, 1 - 1e-6])
def test_beta_ppf_inverts_beta_cdf(a: float, b: float, q: float) -> None:
    assert beta_cdf(beta_ppf(q, a, b), a, b) == pytest.approx(q, abs=1e-10)


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, -2), (math.nan, 1), (1, math.inf)])
def test_beta_shapes_must_be_positive(a: float, b: float) -> None:
    with pytest.raises(ValueError, match="shape parameters"):
        beta_cdf(0.5, a, b)
    with pytest.raises(ValueError, match="shape parameters"):
        beta_ppf(0.5, a, b)


@pytest.mark.parametrize("q", [-0.1, 1.1, math.nan])
def test_beta_ppf_needs_a_probability(q: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        beta_ppf(q, 2, 2)


# --- credible interval -----------------------------------------------------------


def test_no_evidence_gives_a_wide_interval() -> None:
    # Beta(1, 1) is uniform, so the 5% and 95% quantiles are 0.05 and 0.95.
    lo, hi = TrustTally().interval()
    assert lo == pytest.approx(5.0, abs=1e-9)
    assert hi == pytest.approx(95.0, abs=1e-9)


def test_much_evidence_gives_a_narrow_interval_around_the_score() -> None:
    # Beta(1001, 11): mean 1001/1012 = 98.9%, sd ~ 0.33 points, so 90% ~ +-0.54.
    tally = TrustTally(1000, 10)
    lo, hi = tally.interval()
    assert lo < tally.score() < hi
    assert 0.5 < hi - lo < 2.0


def test_a_lower_credible_level_gives_a_narrower_interval() -> None:
    tally = TrustTally(8, 2)
    lo90, hi90 = tally.interval(0.9)
    lo50, hi50 = tally.interval(0.5)
    assert lo90 < lo50 < tally.score() < hi50 < hi90


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.2])
def test_credible_level_must_be_a_proper_fraction(level: float) -> None:
    with pytest.raises(ValueError, match="credible level"):
        TrustTally().interval(level)


# --- decay -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "factor"),
    [
        (timedelta(0), 1.0),
        (HALF_LIFE, 0.5),  # 0.5 ** 1
        (2 * HALF_LIFE, 0.25),  # 0.5 ** 2
        (HALF_LIFE / 2, math.sqrt(0.5)),  # 0.5 ** 0.5
        (-HALF_LIFE, 1.0),  # events from the future are not boosted
    ],
)
def test_decay_factor_halves_every_half_life(age: timedelta, factor: float) -> None:
    assert decay_factor(age, HALF_LIFE) == pytest.approx(factor, rel=1e-15)


@pytest.mark.parametrize("half_life", [timedelta(0), -HALF_LIFE])
def test_half_life_must_be_positive(half_life: timedelta) -> None:
    with pytest.raises(ValueError, match="half-life"):
        decay_factor(HALF_LIFE, half_life)
    with pytest.raises(ValueError, match="half-life"):
        TrustWeights(half_life=half_life)


def test_an_event_counts_half_after_one_half_life_and_a_quarter_after_two() -> None:
    tally = TrustTally().add(2.0, T0, HALF_LIFE)
    assert tally.decayed_to(T0 + HALF_LIFE, HALF_LIFE).r == pytest.approx(1.0)  # 2 x 0.5
    assert tally.decayed_to(T0 + 2 * HALF_LIFE, HALF_LIFE).r == pytest.approx(0.5)  # 2 x 0.25


def test_negative_weights_count_as_negative_evidence() -> None:
    tally = TrustTally().add(-4.25, T0, HALF_LIFE).add(1.5, T0, HALF_LIFE)
    assert (tally.r, tally.s, tally.as_of) == (1.5, 4.25, T0)


def test_a_zero_weight_only_moves_the_clock() -> None:
    tally = TrustTally(2.0, 1.0, T0).add(0.0, T0 + HALF_LIFE, HALF_LIFE)
    assert (tally.r, tally.s, tally.as_of) == (1.0, 0.5, T0 + HALF_LIFE)


def test_a_late_arriving_event_is_decayed_by_its_own_age() -> None:
    # Stored as of T0 + 2 half-lives; an event stamped T0 arrives now and
    # counts 4 x 0.25 = 1, as the rebuild would count it.
    tally = TrustTally(3.0, 0.0, T0 + 2 * HALF_LIFE).add(-4.0, T0, HALF_LIFE)
    assert (tally.r, tally.s, tally.as_of) == (3.0, pytest.approx(1.0), T0 + 2 * HALF_LIFE)


def test_reading_a_tally_before_its_time_leaves_it_unchanged() -> None:
    tally = TrustTally(3.0, 1.0, T0)
    assert tally.decayed_to(T0 - HALF_LIFE, HALF_LIFE) is tally


def test_rebuild_decays_each_event_by_its_age() -> None:
    events = [(T0, 2.0), (T0 + HALF_LIFE, -1.0), (T0 + 2 * HALF_LIFE, 0.0)]
    tally = rebuild(events, T0 + 2 * HALF_LIFE, HALF_LIFE)
    # r = 2 x 0.25 = 0.5; s = 1 x 0.5 = 0.5
    assert (tally.r, tally.s, tally.as_of) == (0.5, 0.5, T0 + 2 * HALF_LIFE)


def test_rebuild_of_nothing_is_no_evidence() -> None:
    assert rebuild([], T0, HALF_LIFE) == TrustTally(0.0, 0.0, T0)


def test_rebuild_with_an_event_after_now_is_as_of_that_event_like_the_tally() -> None:
    events = [(T0, 2.0), (T0 + 2 * HALF_LIFE, 1.0)]
    incremental = TrustTally().add(2.0, T0, HALF_LIFE).add(1.0, T0 + 2 * HALF_LIFE, HALF_LIFE)
    rebuilt = rebuild(events, T0 + HALF_LIFE, HALF_LIFE)
    assert rebuilt.as_of == incremental.as_of == T0 + 2 * HALF_LIFE
    assert rebuilt.r == pytest.approx(incremental.r) == pytest.approx(1.5)  # 2 x 0.25 + 1


def test_any_timezone_will_do_for_the_same_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    tally = TrustTally().add(2.0, T0.astimezone(plus_two), HALF_LIFE)
    assert tally.decayed_to(T0 + HALF_LIFE, HALF_LIFE).r == pytest.approx(1.0)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 16, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        TrustTally().add(1.0, naive, HALF_LIFE)
    with pytest.raises(ValueError, match="timezone-aware"):
        TrustTally().decayed_to(naive, HALF_LIFE)
    with pytest.raises(ValueError, match="timezone-aware"):
        TrustTally(1.0, 0.0, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        rebuild([(naive, 1.0)], T0, HALF_LIFE)
    with pytest.raises(ValueError, match="timezone-aware"):
        rebuild([], naive, HALF_LIFE)


@pytest.mark.parametrize("weight", [math.nan, math.inf, -math.inf])
def test_weights_must_be_finite(weight: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        TrustTally().add(weight, T0, HALF_LIFE)
    with pytest.raises(ValueError, match="finite"):
        rebuild([(T0, weight)], T0, HALF_LIFE)


# --- evidence rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "taken", "target", "weight", "rule"),
    [
        ("medium", 6 * HOUR, 8 * HOUR, 1.0, "sla_met"),  # +1 x1
        ("critical", 6 * HOUR, 8 * HOUR, 2.0, "sla_met"),  # +1 x2
        ("high", 8 * HOUR, 8 * HOUR, 1.5, "sla_met"),  # exactly on target is met: +1 x1.5
        ("low", timedelta(0), 8 * HOUR, 0.5, "sla_met"),  # +1 x0.5
        ("medium", 12 * HOUR, 8 * HOUR, -1.5, "sla_breach"),  # 1 + 4/8 = 1.5, x1
        ("critical", 17 * HOUR, 8 * HOUR, -4.25, "sla_breach"),  # min(1 + 9/8, 3) = 2.125, x2
        ("high", 38 * HOUR, 8 * HOUR, -4.5, "sla_breach"),  # min(1 + 30/8, 3) = 3, x1.5
        ("critical", 100 * HOUR, 8 * HOUR, -6.0, "sla_breach"),  # cap 3 first, then x2 = 6
        ("low", 24 * HOUR, 8 * HOUR, -1.5, "sla_breach"),  # min(1 + 16/8, 3) = 3, x0.5
    ],
)
def test_resolution_evidence(
    severity: str, taken: timedelta, target: timedelta, weight: float, rule: str
) -> None:
    evidence = resolution_evidence(severity, taken, target)
    assert evidence.weight == pytest.approx(weight, rel=1e-15)
    assert evidence.rule == rule


def test_breach_explanation_says_how_late_and_the_multiplier() -> None:
    evidence = resolution_evidence("critical", 17 * HOUR, 8 * HOUR)
    assert evidence.explanation == "resolution 9h late against the 8h target (critical x2)"


def test_capped_breach_explanation_mentions_the_cap() -> None:
    evidence = resolution_evidence("high", 38 * HOUR, 8 * HOUR)
    assert evidence.explanation == (
        "resolution 30h late against the 8h target, capped at 3 (high x1.5)"
    )


def test_met_explanation_says_how_long_it_took() -> None:
    evidence = resolution_evidence("medium", timedelta(hours=6, minutes=30), 8 * HOUR)
    assert evidence.explanation == "resolved in 6h 30m, within the 8h target (medium x1)"


@pytest.mark.parametrize(
    ("severity", "weight"), [("low", -0.5), ("medium", -1.0), ("high", -1.5), ("critical", -2.0)]
)
def test_dispute_and_reopen_scale_with_severity(severity: str, weight: float) -> None:
    dispute = dispute_evidence(severity)
    reopen = reopen_evidence(severity)
    assert (dispute.weight, dispute.rule) == (weight, "dispute")
    assert (reopen.weight, reopen.rule) == (weight, "reopen")
    assert severity in dispute.explanation and "disputed" in dispute.explanation
    assert severity in reopen.explanation and "reopened" in reopen.explanation


@pytest.mark.parametrize(("stars", "weight"), [(5, 1.0), (4, 0.5), (3, 0.0), (2, -0.5), (1, -1.0)])
def test_rating_evidence_ignores_severity(stars: int, weight: float) -> None:
    evidence = rating_evidence(stars)
    assert (evidence.weight, evidence.rule) == (weight, "rating")
    assert f"rated {stars} star" in evidence.explanation


@pytest.mark.parametrize("stars", [0, 6, -1, 4.5, True, "5"])
def test_rating_must_be_one_to_five_whole_stars(stars: object) -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        rating_evidence(stars)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severity", "waited", "weight", "rule"),
    [
        ("high", 4 * HOUR, 1.5, "partner_wait_within"),  # +1 x1.5
        ("medium", 16 * HOUR, 1.0, "partner_wait_within"),  # exactly the expectation
        ("medium", 24 * HOUR, -1.5, "partner_wait_over"),  # 1 + 8/16 = 1.5, x1
        ("low", 20 * HOUR, -0.625, "partner_wait_over"),  # 1 + 4/16 = 1.25, x0.5
        ("critical", 100 * HOUR, -6.0, "partner_wait_over"),  # min(1 + 84/16, 3) = 3, x2
    ],
)
def test_partner_wait_evidence(severity: str, waited: timedelta, weight: float, rule: str) -> None:
    evidence = partner_wait_evidence(severity, waited, EXPECTATION)
    assert evidence.weight == pytest.approx(weight, rel=1e-15)
    assert evidence.rule == rule


def test_partner_wait_explanations() -> None:
    over = partner_wait_evidence("medium", 24 * HOUR, EXPECTATION)
    within = partner_wait_evidence("high", timedelta(minutes=45), EXPECTATION)
    assert over.explanation == "partner took 24h, 8h over the 16h expectation (medium x1)"
    assert within.explanation == "partner answered in 45m, within the 16h expectation (high x1.5)"


@pytest.mark.parametrize("severity", ["urgent", "Critical", ""])
def test_unknown_severity_is_refused_by_every_rule(severity: str) -> None:
    rules = [
        lambda: resolution_evidence(severity, HOUR, 8 * HOUR),
        lambda: dispute_evidence(severity),
        lambda: reopen_evidence(severity),
        lambda: partner_wait_evidence(severity, HOUR, EXPECTATION),
    ]
    for rule in rules:
        with pytest.raises(ValueError, match="Unknown severity .*low, medium, high, critical"):
            rule()


def test_durations_must_make_sense() -> None:
    with pytest.raises(ValueError, match="target must be longer than zero"):
        resolution_evidence("low", HOUR, timedelta(0))
    with pytest.raises(ValueError, match="cannot be negative"):
        resolution_evidence("low", -HOUR, 8 * HOUR)
    with pytest.raises(ValueError, match="expectation must be longer than zero"):
        partner_wait_evidence("low", HOUR, timedelta(0))
    with pytest.raises(ValueError, match="cannot be negative"):
        partner_wait_evidence("low", -HOUR, EXPECTATION)


# --- weights -------------------------------------------------------------------------


def test_custom_weights_change_every_rule() -> None:
    weights = TrustWeights(
        sla_met=2.0,
        breach_base=0.5,
        breach_cap=1.0,
        dispute=3.0,
        reopen=4.0,
        ratings={5: 2.0, 4: 1.0, 3: 0.0, 2: -1.0, 1: -2.0},
        severity_multipliers={"low": 1.0, "medium": 1.0, "high": 1.0, "critical": 10.0},
    )
    assert resolution_evidence("critical", HOUR, 8 * HOUR, weights).weight == 20.0  # 2 x10
    assert resolution_evidence("low", 10 * HOUR, 8 * HOUR, weights).weight == -0.75  # 0.5 + 2/8
    assert resolution_evidence("low", 80 * HOUR, 8 * HOUR, weights).weight == -1.0  # capped
    assert dispute_evidence("medium", weights).weight == -3.0
    assert reopen_evidence("medium", weights).weight == -4.0
    assert rating_evidence(5, weights).weight == 2.0
    assert partner_wait_evidence("high", 32 * HOUR, EXPECTATION, weights).weight == -1.0


def test_default_weights_follow_the_spec() -> None:
    spec = TrustWeights(
        sla_met=1.0,
        breach_base=1.0,
        breach_cap=3.0,
        dispute=1.0,
        reopen=1.0,
        ratings={5: 1.0, 4: 0.5, 3: 0.0, 2: -0.5, 1: -1.0},
        severity_multipliers={"critical": 2.0, "high": 1.5, "medium": 1.0, "low": 0.5},
        half_life=timedelta(days=90),
    )
    assert spec == DEFAULT_WEIGHTS


def test_weights_are_frozen_hashable_and_copy_their_mappings() -> None:
    ratings = {5: 1.0, 4: 0.5, 3: 0.0, 2: -0.5, 1: -1.0}
    weights = TrustWeights(ratings=ratings)
    ratings[5] = 99.0
    assert weights.ratings[5] == 1.0
    assert hash(weights) == hash(DEFAULT_WEIGHTS)
    assert weights == DEFAULT_WEIGHTS
    with pytest.raises(TypeError):
        weights.ratings[5] = 2.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        weights.sla_met = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sla_met": -1.0}, "sla_met"),
        ({"breach_cap": 0.5}, "breach_cap"),
        ({"ratings": {5: 1.0}}, "1 to 5 stars"),
        ({"severity_multipliers": {"low": 1.0}}, "low, medium, high, critical"),
        (
            {"severity_multipliers": {"low": 0.0, "medium": 1.0, "high": 1.0, "critical": 1.0}},
            "positive",
        ),
    ],
)
def test_nonsense_weights_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrustWeights(**overrides)


def test_a_resolution_in_no_working_time_reads_in_words() -> None:
    from datetime import timedelta as _td

    from tracker.domain.trust import resolution_evidence

    evidence = resolution_evidence("high", _td(0), _td(hours=24))
    assert "0s" not in evidence.explanation
    assert evidence.explanation.startswith("resolved in under a minute of working time")
