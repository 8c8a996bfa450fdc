"""Trust scores: Beta reputation (Josang and Ismail, 2002) over evidence that ages."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from tracker.domain.text import N_

SIDE_DELIVERY = "delivery"
SIDE_RESPONSIVENESS = "responsiveness"
SIDES = (SIDE_DELIVERY, SIDE_RESPONSIVENESS)

SEVERITIES = ("low", "medium", "high", "critical")

_DEFAULT_RATINGS: Mapping[int, float] = MappingProxyType({5: 1.0, 4: 0.5, 3: 0.0, 2: -0.5, 1: -1.0})
_DEFAULT_SEVERITY_MULTIPLIERS: Mapping[str, float] = MappingProxyType(
    {"critical": 2.0, "high": 1.5, "medium": 1.0, "low": 0.5}
)


def _check_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"The {name} must be timezone-aware, got naive {moment.isoformat()}.")


def _check_half_life(half_life: timedelta) -> None:
    if half_life <= timedelta(0):
        raise ValueError(f"The half-life must be longer than zero, got {half_life}.")


@dataclass(frozen=True)
class TrustWeights:
    """How much each kind of event counts: the one place the weights live.

    All fields are magnitudes; the rule decides the sign.

    - ``sla_met``: a conflict resolved within its target, +1. Also a partner
      wait that ended within the partner's response expectation.
    - ``breach_base`` and ``breach_cap``: a resolution over its target counts
      ``-(breach_base + overrun / target)``, at most ``breach_cap`` in size.
      A partner wait over the expectation is judged the same way, with the
      expectation in place of the target.
    - ``dispute`` and ``reopen``: -1 each.
    - ``ratings``: stars (1-5) to a signed weight, 5 -> +1 ... 1 -> -1.
    - ``severity_multipliers``: scale SLA, partner-wait, dispute and reopen
      evidence by the conflict's severity. The cap applies before the
      multiplier, so a critical breach can weigh up to 2 x 3 = 6: a late
      critical conflict should hurt more than a late low one even when both
      are very late.
    - Ratings are NOT multiplied by severity: a rating is the partner's own
      voice about the work and counts the same whatever the severity.
    - ``half_life``: evidence loses half its weight every half-life.

    The two mappings are stored as read-only copies (so the dataclass stays
    immutable) and are left out of the hash (equality still compares them).
    """

    sla_met: float = 1.0
    breach_base: float = 1.0
    breach_cap: float = 3.0
    dispute: float = 1.0
    reopen: float = 1.0
    ratings: Mapping[int, float] = field(default_factory=lambda: _DEFAULT_RATINGS, hash=False)
    severity_multipliers: Mapping[str, float] = field(
        default_factory=lambda: _DEFAULT_SEVERITY_MULTIPLIERS, hash=False
    )
    half_life: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        for name in ("sla_met", "breach_base", "breach_cap", "dispute", "reopen"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Trust weight {name} must be a number >= 0, got {value!r}.")
        if self.breach_cap < self.breach_base:
            raise ValueError(N_("Trust weight breach_cap must be at least breach_base."))
        ratings = dict(self.ratings)
        if set(ratings) != {1, 2, 3, 4, 5}:
            raise ValueError(N_("Rating weights must be given for exactly 1 to 5 stars."))
        if not all(math.isfinite(w) for w in ratings.values()):
            raise ValueError(N_("Rating weights must be finite numbers."))
        multipliers = dict(self.severity_multipliers)
        if set(multipliers) != set(SEVERITIES):
            raise ValueError(
                f"Severity multipliers must be given for exactly {', '.join(SEVERITIES)}."
            )
        if not all(math.isfinite(m) and m > 0 for m in multipliers.values()):
            raise ValueError(N_("Severity multipliers must be positive numbers."))
        _check_half_life(self.half_life)
        # Copy so a caller mutating their dict cannot change a frozen object.
        object.__setattr__(self, "ratings", MappingProxyType(ratings))
        object.__setattr__(self, "severity_multipliers", MappingProxyType(multipliers))


DEFAULT_WEIGHTS = TrustWeights()


@dataclass(frozen=True)
class Evidence:
    """One rule's verdict on one event: a signed weight and why, for people."""

    weight: float
    rule: str
    explanation: str


def _multiplier(severity: str, weights: TrustWeights) -> float:
    if severity not in weights.severity_multipliers:
        raise ValueError(f"Unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}.")
    return weights.severity_multipliers[severity]


def _severity_note(severity: str, multiplier: float) -> str:
    return f"({severity} x{multiplier:g})"


def _format_duration(duration: timedelta) -> str:
    """Business durations read best as hours and minutes: '9h', '1h 30m', '45m'."""
    seconds = round(duration.total_seconds())
    if seconds < 60:
        return "under a minute of working time"
    hours, rest = divmod(seconds, 3600)
    minutes = round(rest / 60)
    if minutes == 60:
        hours, minutes = hours + 1, 0
    if hours and minutes:
        return f"{hours}h {minutes}m"
    if hours:
        return f"{hours}h"
    return f"{minutes}m"


def _check_duration(name: str, value: timedelta, *, positive: bool) -> None:
    if positive and value <= timedelta(0):
        raise ValueError(f"The {name} must be longer than zero, got {value}.")
    if value < timedelta(0):
        raise ValueError(f"The {name} cannot be negative, got {value}.")


def _overrun_penalty(
    taken: timedelta, limit: timedelta, weights: TrustWeights
) -> tuple[float, bool]:
    """Size of an over-limit penalty before severity, and whether the cap bit."""
    raw = weights.breach_base + (taken - limit) / limit
    return min(raw, weights.breach_cap), raw > weights.breach_cap


def resolution_evidence(
    severity: str,
    business_time: timedelta,
    target: timedelta,
    weights: TrustWeights = DEFAULT_WEIGHTS,
) -> Evidence:
    """Judge a resolution against its SLA target (both in business time).

    Met (including exactly on target): +sla_met. Breached:
    -min(breach_base + overrun / target, breach_cap). Then x severity.
    """
    multiplier = _multiplier(severity, weights)
    _check_duration("resolution time", business_time, positive=False)
    _check_duration("resolution target", target, positive=True)
    note = _severity_note(severity, multiplier)
    if business_time <= target:
        return Evidence(
            weight=weights.sla_met * multiplier,
            rule="sla_met",
            explanation=(
                f"resolved in {_format_duration(business_time)}, within "
                f"the {_format_duration(target)} target {note}"
            ),
        )
    penalty, capped = _overrun_penalty(business_time, target, weights)
    cap_note = f", capped at {weights.breach_cap:g}" if capped else ""
    return Evidence(
        weight=-penalty * multiplier,
        rule="sla_breach",
        explanation=(
            f"resolution {_format_duration(business_time - target)} late against "
            f"the {_format_duration(target)} target{cap_note} {note}"
        ),
    )


def breach_fact(clock: str) -> str:
    """What the ledger says of a missed target: a fact of weight 0, and where it weighs.

    A missed triage target weighs nothing on its own, by decision: the resolution clock runs
    from submission, so the business hours lost before triage are inside the resolution time
    that `resolution_evidence` weighs when the partner accepts (or the loop closes by
    default); weighing them again would count the same hours twice. A missed resolution
    target is weighed then too, by its overrun. A conflict withdrawn before that weighs
    nothing at all.
    """
    if clock == "triage":
        return (
            "missed the triage target; not weighed on its own: the time lost is part of "
            "the resolution time, weighed against its target when the loop closes"
        )
    return f"breached the {clock} target; weighed by its overrun when the loop closes"


def dispute_evidence(severity: str, weights: TrustWeights = DEFAULT_WEIGHTS) -> Evidence:
    """A resolution that was disputed: -dispute x severity."""
    multiplier = _multiplier(severity, weights)
    return Evidence(
        weight=-weights.dispute * multiplier,
        rule="dispute",
        explanation=f"resolution disputed {_severity_note(severity, multiplier)}",
    )


def reopen_evidence(severity: str, weights: TrustWeights = DEFAULT_WEIGHTS) -> Evidence:
    """A conflict reopened after resolution: -reopen x severity."""
    multiplier = _multiplier(severity, weights)
    return Evidence(
        weight=-weights.reopen * multiplier,
        rule="reopen",
        explanation=f"conflict reopened {_severity_note(severity, multiplier)}",
    )


def rating_evidence(stars: int, weights: TrustWeights = DEFAULT_WEIGHTS) -> Evidence:
    """A 1-5 star rating; deliberately not scaled by severity (see TrustWeights)."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValueError(f"A rating must be a whole number of stars from 1 to 5, got {stars!r}.")
    weight = weights.ratings[stars]
    unit = "star" if stars == 1 else "stars"
    return Evidence(
        weight=weight,
        rule="rating",
        explanation=f"rated {stars} {unit} ({weight:+g})",
    )


def partner_wait_evidence(
    severity: str,
    waited: timedelta,
    expectation: timedelta,
    weights: TrustWeights = DEFAULT_WEIGHTS,
) -> Evidence:
    """Judge one completed wait on the partner against their response expectation.

    Within (including exactly on it): +sla_met. Over:
    -min(breach_base + overrun / expectation, breach_cap). Then x severity.
    """
    multiplier = _multiplier(severity, weights)
    _check_duration("partner wait", waited, positive=False)
    _check_duration("response expectation", expectation, positive=True)
    note = _severity_note(severity, multiplier)
    if waited <= expectation:
        return Evidence(
            weight=weights.sla_met * multiplier,
            rule="partner_wait_within",
            explanation=(
                f"partner answered in {_format_duration(waited)}, within "
                f"the {_format_duration(expectation)} expectation {note}"
            ),
        )
    penalty, capped = _overrun_penalty(waited, expectation, weights)
    cap_note = f", capped at {weights.breach_cap:g}" if capped else ""
    return Evidence(
        weight=-penalty * multiplier,
        rule="partner_wait_over",
        explanation=(
            f"partner took {_format_duration(waited)}, "
            f"{_format_duration(waited - expectation)} over "
            f"the {_format_duration(expectation)} expectation{cap_note} {note}"
        ),
    )


def decay_factor(age: timedelta, half_life: timedelta) -> float:
    """Share of a weight left after `age`: 0.5 ** (age / half_life).

    A negative age (an event stamped after the moment asked about) counts as
    zero: evidence from the future is never boosted above its own weight.
    """
    _check_half_life(half_life)
    if age <= timedelta(0):
        return 1.0
    return 0.5 ** (age / half_life)


def expected_trust(r: float, s: float) -> float:
    """Mean of Beta(r + 1, s + 1): 0.5 with no evidence, towards 1 or 0 as evidence grows."""
    _check_evidence(r, s)
    return (r + 1.0) / (r + s + 2.0)


def _check_evidence(r: float, s: float) -> None:
    if not (math.isfinite(r) and math.isfinite(s)) or r < 0 or s < 0:
        raise ValueError(f"Evidence must be finite and >= 0, got r={r!r}, s={s!r}.")


@dataclass(frozen=True)
class TrustTally:
    """One side's stored state: evidence r and s, already decayed to `as_of`.

    Each partner has a delivery side and a responsiveness side. Positive
    weights add to r, negative ones (their size) to s; the score is the mean
    of Beta(r + 1, s + 1), with a credible interval so that "no evidence"
    reads as "we don't know" rather than "average".

    Ageing multiplies r and s by the same factor, and factors compose
    (0.5 ** (t1 / h) * 0.5 ** (t2 / h) == 0.5 ** ((t1 + t2) / h)), so storing
    these three numbers is enough: adding an event or reading a score is O(1)
    and agrees with a full `rebuild` of the ledger.

    `as_of` is None until the first event. Time never runs backwards for a
    tally: reading it at a moment before `as_of` leaves it as it is, and an
    event older than `as_of` is decayed by its own age instead, which is what
    a full `rebuild` would have done.
    """

    r: float = 0.0
    s: float = 0.0
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        _check_evidence(self.r, self.s)
        if self.as_of is not None:
            _check_aware("as_of time", self.as_of)

    def decayed_to(self, now: datetime, half_life: timedelta) -> TrustTally:
        """The same evidence as seen at `now` (no change if `now` is not later)."""
        _check_aware("time", now)
        _check_half_life(half_life)
        if self.as_of is None:
            return TrustTally(self.r, self.s, now)
        if now <= self.as_of:
            return self
        factor = decay_factor(now - self.as_of, half_life)
        return TrustTally(self.r * factor, self.s * factor, now)

    def add(self, weight: float, at: datetime, half_life: timedelta) -> TrustTally:
        """Record one signed weight at `at`: positive to r, negative (its size) to s."""
        if not math.isfinite(weight):
            raise ValueError(f"Evidence weight must be a finite number, got {weight!r}.")
        tally = self.decayed_to(at, half_life)
        assert tally.as_of is not None
        contribution = weight * decay_factor(tally.as_of - at, half_life)
        if contribution >= 0:
            return TrustTally(tally.r + contribution, tally.s, tally.as_of)
        return TrustTally(tally.r, tally.s - contribution, tally.as_of)

    @property
    def expected(self) -> float:
        """Expected trust, 0-1."""
        return expected_trust(self.r, self.s)

    def score(self) -> float:
        """Expected trust on the 0-100 scale, unrounded (rounding is for display)."""
        return 100.0 * self.expected

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Central credible interval of Beta(r + 1, s + 1) on the 0-100 scale.

        With little evidence it is wide (about 5 to 95 for none at all), which
        is how the UI says "not enough data yet".
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"The credible level must be between 0 and 1, got {level!r}.")
        a, b = self.r + 1.0, self.s + 1.0
        tail = (1.0 - level) / 2.0
        return 100.0 * beta_ppf(tail, a, b), 100.0 * beta_ppf(1.0 - tail, a, b)


def rebuild(
    events: Iterable[tuple[datetime, float]], now: datetime, half_life: timedelta
) -> TrustTally:
    """Replay a side's ledger from scratch; the check on the incremental tally.

    Each weight is decayed by its own age at `now`. If an event is later than
    `now`, the tally is as of that event instead, as the incremental one would be.
    """
    _check_aware("time", now)
    _check_half_life(half_life)
    pending: list[tuple[datetime, float]] = []
    as_of = now
    for at, weight in events:
        _check_aware("event time", at)
        if not math.isfinite(weight):
            raise ValueError(f"Evidence weight must be a finite number, got {weight!r}.")
        pending.append((at, weight))
        as_of = max(as_of, at)
    r = s = 0.0
    for at, weight in pending:
        contribution = weight * decay_factor(as_of - at, half_life)
        if contribution >= 0:
            r += contribution
        else:
            s -= contribution
    return TrustTally(r, s, as_of)


# --- Beta distribution -------------------------------------------------------
# The domain core is stdlib only (no scipy), so it carries its own regularized
# incomplete beta (Numerical Recipes' continued fraction, modified Lentz, with
# math.lgamma) and its inverse. Checked against exact binomial sums up to
# shape 10,001: the CDF is good to about 1e-11, limited by lgamma's rounding at
# large arguments.

# Lentz stops when a step changes the fraction by at most this (2 ulp of 1.0);
# tighter would never trigger because of rounding.
_CF_EPS = 2.0 * sys.float_info.epsilon
_CF_TINY = 1e-300
_CF_MAX_ITERATIONS = 20_000
_PPF_MAX_ITERATIONS = 500
_PPF_XTOL_ABS = 1e-300
_PPF_XTOL_REL = 1e-14


def _check_shape(a: float, b: float) -> None:
    if not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        raise ValueError(f"Beta shape parameters must be finite and > 0, got a={a!r}, b={b!r}.")


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    """Continued fraction for I_x(a, b), evaluated by modified Lentz (Numerical Recipes betacf)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _CF_TINY:
        d = _CF_TINY
    d = 1.0 / d
    h = d
    for m in range(1, _CF_MAX_ITERATIONS + 1):
        m2 = 2 * m
        # Even step.
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _CF_TINY:
            d = _CF_TINY
        c = 1.0 + aa / c
        if abs(c) < _CF_TINY:
            c = _CF_TINY
        d = 1.0 / d
        h *= d * c
        # Odd step.
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _CF_TINY:
            d = _CF_TINY
        c = 1.0 + aa / c
        if abs(c) < _CF_TINY:
            c = _CF_TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _CF_EPS:
            return h
    raise ArithmeticError(f"Incomplete beta did not converge for x={x}, a={a}, b={b}.")


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta I_x(a, b): P(X <= x) for X ~ Beta(a, b)."""
    _check_shape(a, b)
    if math.isnan(x):
        raise ValueError(N_("x must be a number, got NaN."))
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    # The fraction converges fast only below the mean-ish point; use the
    # symmetry I_x(a, b) = 1 - I_{1-x}(b, a) above it.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(1.0 - x, b, a) / b


def _beta_log_pdf(x: float, a: float, b: float, log_beta: float) -> float:
    return (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_beta


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of Beta(a, b): the x with I_x(a, b) = q, to well under 1e-9.

    Newton's method on the CDF, kept inside a shrinking bracket; any step that
    leaves the bracket (or has no usable slope) falls back to bisection.
    """
    _check_shape(a, b)
    if math.isnan(q) or not 0.0 <= q <= 1.0:
        raise ValueError(f"A quantile level must be between 0 and 1, got {q!r}.")
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return 1.0
    log_beta = _log_beta(a, b)
    lo, hi = 0.0, 1.0
    x = a / (a + b)
    for _ in range(_PPF_MAX_ITERATIONS):
        error = beta_cdf(x, a, b) - q
        if error == 0.0:
            return x
        if error < 0.0:
            lo = x
        else:
            hi = x
        tolerance = _PPF_XTOL_ABS + _PPF_XTOL_REL * x
        try:
            slope = math.exp(_beta_log_pdf(x, a, b, log_beta))
        except OverflowError:
            slope = math.inf
        if 0.0 < slope < math.inf:
            newton = x - error / slope
            # A converged step may graze the bracket edge by rounding: accept it.
            if abs(newton - x) <= tolerance:
                return newton
            if lo < newton < hi:
                x = newton
                continue
        if hi - lo <= tolerance:
            return 0.5 * (lo + hi)
        x = 0.5 * (lo + hi)
    return x
