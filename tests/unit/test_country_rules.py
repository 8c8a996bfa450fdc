"""Account and partner rules of the domain core."""

import pytest

from tracker.domain import accounts


def test_partner_countries_must_have_a_holiday_calendar() -> None:
    assert accounts.check_country("de") == "DE"
    for bad in ("XX", "ZZ", "D1", "Germany"):
        with pytest.raises(accounts.AccountRuleError):
            accounts.check_country(bad)
