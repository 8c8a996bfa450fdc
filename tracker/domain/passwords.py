"""Which passwords are too easy to guess: common and breached ones, runs, the person's own name.

The lists of common and leaked passwords (and of words, names and keyboard patterns) ship
with zxcvbn, so checking needs no network and never sends a password anywhere.
"""

from __future__ import annotations

import re

from tracker.domain.accounts import AccountRuleError
from tracker.domain.text import N_

# zxcvbn's scale: 3 means about 10^8 to 10^10 guesses, out of reach of an online attack
# and costly offline against scrypt; 2 and below include "Summer2024!" and "password12".
MIN_SCORE = 3
# zxcvbn refuses longer inputs; the first 72 characters are a lower bound on the strength.
ESTIMATE_LENGTH = 72
MIN_RUN = 3  # "aaa", "abc" and "321" count as runs; two characters are just a pair
MIN_PERSONAL_PART = 4  # shorter name parts ("li", "lee") occur in ordinary words


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a password that contains the person's e-mail or name, is mostly repeated or
    sequential characters, or is (like) a common or breached password."""
    lowered = password.lower()
    personal = _personal_parts(email, name)
    if any(part in lowered for part in personal):
        raise AccountRuleError(
            N_("This password contains your e-mail address or name; choose one that does not.")
        )
    if _mostly_runs(password):
        raise AccountRuleError(
            "This password is too easy to guess: it repeats characters or follows a sequence "
            "(like aaaa or 1234). Use a few uncommon words instead."
        )
    # Imported here, not at the top: its word lists are ~13 MiB in every web worker, and
    # only a password being set needs them (tests/test_worker_memory.py keeps it so).
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=sorted(personal))
    if result["score"] < MIN_SCORE:
        raise AccountRuleError(
            f"This password is too common: {_reason(result)}. "
            "Add another word or two; uncommon words are better."
        )


def _personal_parts(email: str, name: str) -> set[str]:
    """The e-mail address, its local part and the words of the local part and the name."""
    email = (email or "").strip().lower()
    local = email.split("@", 1)[0]
    parts = {email, local} if len(local) >= MIN_RUN else {email}
    words = re.split(r"[^\w]+|_", f"{local} {(name or '').lower()}")
    parts.update(word for word in words if len(word) >= MIN_PERSONAL_PART)
    return {part for part in parts if part}


def _mostly_runs(password: str) -> bool:
    """True when the password is one unit repeated ("abcabc") or at least half of it sits in
    runs of one character or of consecutive characters ("aaaa", "1234", "dcba")."""
    if re.fullmatch(r"(.+?)\1+", password, flags=re.DOTALL):
        return True
    covered: set[int] = set()
    start = 0
    for end in range(1, len(password) + 1):
        if end < len(password) and _continues(password, start, end):
            continue
        if end - start >= MIN_RUN:
            covered.update(range(start, end))
        # The last character may begin the next run ("aabc": "abc" starts inside "aa").
        joins = end < len(password) and abs(ord(password[end]) - ord(password[end - 1])) <= 1
        start = end - 1 if joins else end
    return len(covered) * 2 >= len(password)


def _continues(password: str, start: int, end: int) -> bool:
    """Does password[end] extend the run password[start:end] (same step of 0, +1 or -1)?"""
    step = ord(password[end]) - ord(password[end - 1])
    if step not in (-1, 0, 1):
        return False
    return end - start < 2 or step == ord(password[start + 1]) - ord(password[start])


def _reason(result: dict) -> str:
    """Why zxcvbn guessed it quickly, said in a way a person can act on."""
    listed = [
        match
        for match in result.get("sequence", [])
        if match.get("pattern") == "dictionary" and match.get("dictionary_name") == "passwords"
    ]
    if any(len(match.get("token", "")) == len(result.get("password", "")) for match in listed):
        return "it is on the lists of leaked and common passwords that attackers try first"
    if listed:
        return "it is built on a leaked or common password that attackers try first"
    warning = (result.get("feedback", {}).get("warning") or "").strip().rstrip(".")
    if warning:
        return warning[0].lower() + warning[1:]
    return "it would be guessed quickly"
