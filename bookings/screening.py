"""Keeping secrets out of messages: card numbers, bank account numbers and passwords.

Payments only ever happen through checkout, so no one needs to send these in a message.
A message that looks like it contains one is refused with an explanation of why.
"""

import re

CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ \-.]?){12,18}\d(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
SECRET = re.compile(
    r"\b(?:password|passwort|passwd|pwd|passcode|pass code|pin(?: code)?|cvv|cvc|security code|login details)\b"
    # "password: x" always; "password is x" only when x looks like a secret (has a digit or is quoted),
    # so "the password is hashed" in a technical chat still goes through.
    r"(?:\s*[:=]\s*\S+|\s+(?:is|was)\s+(?:(?=\S*\d)\S+|[\"'‘“]\S+))",
    re.IGNORECASE,
)

CARD_REFUSAL = (
    "This message looks like it contains a card number, so we didn't send it. "
    "Never share card details in messages: you only ever pay through our secure checkout."
)
BANK_REFUSAL = (
    "This message looks like it contains a bank account number (IBAN), so we didn't send it. "
    "Payments and payouts go through the platform; no one needs your bank details in a message."
)
SECRET_REFUSAL = (
    "This message looks like it contains a password or security code, so we didn't send it. "
    "No one from the platform or a mentor will ever ask for it; keep it to yourself."
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _iban_valid(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def refusal(text: str) -> str | None:
    """Why this text may not be sent, or None when it is fine."""
    for match in CARD_NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return CARD_REFUSAL
    if any(_iban_valid(match.group()) for match in IBAN.finditer(text)):
        return BANK_REFUSAL
    if SECRET.search(text):
        return SECRET_REFUSAL
    return None
