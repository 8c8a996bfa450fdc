"""Failed sign-ins: lockouts per (account, address) pair and per address, a pace per account.

A stranger who fails to sign in to someone's account locks out only themselves: the pair
(that account, their address) and, past a larger number, their address. The account itself
is never locked, so the owner can always sign in. Once an account has had many failures from
anywhere, attempts on it from addresses it was never signed in from must keep a growing pace
(one per second, then one per two seconds): guessing spread over many addresses is slowed,
while the owner, from an address they signed in from before, is not slowed at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

LOCKED = "locked"
PACED = "paced"
KNOWN_ADDRESS_DAYS = 90  # an address the owner signed in from stays "theirs" this long
MAX_PACE_SECONDS = 2


@dataclass(frozen=True)
class LoginVerdict:
    """May this attempt be checked? If not, why (LOCKED or PACED) and how long to wait."""

    refused: str | None = None
    retry_after: int = 0


@dataclass
class LoginThrottle:
    """Counts each pair's attempts as they start and each address's failures, so a user who
    types the password right is never held back by their own earlier typos (a success
    forgives its pair's attempts)."""

    storage: Storage
    per_account: int  # failures on one account from one address before that pair is locked
    per_address: int  # failures from one address, on any accounts, before it is locked
    window_minutes: int

    @classmethod
    def from_uri(
        cls, uri: str, *, per_account: int, per_address: int, window_minutes: int
    ) -> LoginThrottle:
        return cls(storage_from_string(uri), per_account, per_address, window_minutes)

    def _limits(self) -> tuple[RateLimitItemPerMinute, RateLimitItemPerMinute]:
        return (
            RateLimitItemPerMinute(self.per_account, self.window_minutes, namespace="login-pair"),
            RateLimitItemPerMinute(
                self.per_address, self.window_minutes, namespace="login-address"
            ),
        )

    def check(self, email: str, address: str, *, now: datetime) -> LoginVerdict:
        """Whether to check this attempt's password at all (call before authenticating)."""
        account = _account_key(email)
        limiter = MovingWindowRateLimiter(self.storage)
        pair_limit, address_limit = self._limits()
        if not limiter.test(address_limit, address):
            return LoginVerdict(LOCKED, self.window_minutes * 60)
        # The attempt on this pair is counted now, atomically, before its password is checked:
        # a hundred guesses sent at once must not all pass a test that none has yet failed.
        # A success then clears the pair (record_success), so the owner is never held back.
        if not limiter.hit(pair_limit, account, address):
            return LoginVerdict(LOCKED, self.window_minutes * 60)
        pace = self.pace_seconds(self.storage.get(f"login-account/{account}"))
        if pace and not self.is_known(email, address):
            second = int(now.timestamp())
            slot = f"login-pace/{account}/{pace}/{second // pace}"
            if self.storage.incr(slot, pace * 2) > 1:
                return LoginVerdict(PACED, pace - second % pace)
        return LoginVerdict()

    def pace_seconds(self, account_failures: int) -> int:
        """The wait between attempts from unknown addresses: none until the account has had
        `per_account` failures, then 1 s, doubling every `per_account` more, at most 2 s."""
        if account_failures < self.per_account:
            return 0
        doublings = (account_failures - self.per_account) // max(self.per_account, 1)
        return min(MAX_PACE_SECONDS, 2 ** min(doublings, 8))

    def is_known(self, email: str, address: str) -> bool:
        """Has this account been signed in to from this address lately?"""
        return self.storage.get(_known_key(email, address)) > 0

    def record_failure(self, email: str, address: str) -> None:
        limiter = MovingWindowRateLimiter(self.storage)
        account = _account_key(email)
        _, address_limit = self._limits()
        limiter.hit(address_limit, address)  # the pair counted this attempt in check()
        self.storage.incr(f"login-account/{account}", self.window_minutes * 60)

    def record_success(self, email: str, address: str) -> None:
        """Forgive this pair's earlier typos and remember the address as the owner's."""
        pair_limit, _ = self._limits()
        self.storage.clear(pair_limit.key_for(_account_key(email), address))
        known = _known_key(email, address)
        self.storage.clear(known)  # a fresh expiry: known for KNOWN_ADDRESS_DAYS from now
        self.storage.incr(known, KNOWN_ADDRESS_DAYS * 24 * 3600)


def _account_key(email: str) -> str:
    return (email or "").strip().lower()


def _known_key(email: str, address: str) -> str:
    return f"login-known/{_account_key(email)}/{address}"
