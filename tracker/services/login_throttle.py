"""Failed-login limits per account and per address, on the rate-limit storage."""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass
class LoginThrottle:
    """Counts failures only, so a user who types the password right is never slowed down."""

    storage: Storage
    per_account: int
    per_address: int
    window_minutes: int

    @classmethod
    def from_uri(
        cls, uri: str, *, per_account: int, per_address: int, window_minutes: int
    ) -> LoginThrottle:
        return cls(storage_from_string(uri), per_account, per_address, window_minutes)

    def _limits(self) -> tuple[RateLimitItemPerMinute, RateLimitItemPerMinute]:
        return (
            RateLimitItemPerMinute(
                self.per_account, self.window_minutes, namespace="login-account"
            ),
            RateLimitItemPerMinute(
                self.per_address, self.window_minutes, namespace="login-address"
            ),
        )

    def is_locked(self, email: str, address: str) -> bool:
        limiter = MovingWindowRateLimiter(self.storage)
        account_limit, address_limit = self._limits()
        return not (
            limiter.test(account_limit, email.strip().lower())
            and limiter.test(address_limit, address)
        )

    def record_failure(self, email: str, address: str) -> None:
        limiter = MovingWindowRateLimiter(self.storage)
        account_limit, address_limit = self._limits()
        limiter.hit(account_limit, email.strip().lower())
        limiter.hit(address_limit, address)

    def clear_account(self, email: str) -> None:
        """A successful sign-in forgives the account's earlier typos."""
        account_limit, _ = self._limits()
        self.storage.clear(account_limit.key_for(email.strip().lower()))
