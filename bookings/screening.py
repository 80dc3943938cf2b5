"""Keeping secrets out of messages: card numbers, bank account numbers and passwords.

Payments only ever happen through checkout, so no one needs to send these in a message.
A message that looks like it contains one is refused with an explanation of why.

The text is normalised before it is looked at, so the usual ways around a filter do not
work: full-width digits and look-alike letters are folded (Unicode NFKC), invisible
characters are dropped, every kind of space counts as a space, and the separators people
put between digit groups (spaces, newlines, / _ - .) are ignored. Numbers must still pass
their checksum (Luhn for cards, mod 97 for IBANs), so order numbers, phone numbers, dates
and prices go through.
"""

import re
import unicodedata

# Characters that show nothing: zero-width space/joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
# Spaces NFKC leaves alone or that people paste: each becomes a plain space.
SPACES = re.compile(r"[^\S\n]+")  # any whitespace except the newline (kept: "password:\nx" stays two tokens)

SEPARATOR = r"[\s/_.\-–—]{0,3}"
DIGIT_RUN = re.compile(rf"(?<!\d)\d(?:{SEPARATOR}\d)+(?!\d)")
IBAN_RUN = re.compile(rf"(?<![A-Z0-9])[A-Z]{{2}}\d{{2}}(?:{SEPARATOR}[A-Z0-9]){{11,32}}", re.IGNORECASE)

# ISO 13616 lengths of the countries we are most likely to see; another country may be 15 to 34 long.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# The word for a password or card code in English, German, French and Spanish, with the usual
# respellings (p@ssword, passw0rd, contrasena). After one of these, "password: x" is refused whatever x is.
SECRET_WORD = (
    r"(?:p[a@4]s{1,2}w[o0]r[dt]|p[a@4]s{1,2}wd|pwd|pw|p[a@4]ss ?code|kennwort|zugangsdaten"
    r"|mot de passe|mdp|code secret|contrase[nñ]a|cvv|cvc|security code|login details)"
)
# Words that are also everyday words ("boarding pass: attached", "palabras clave: Django", "pin: the top
# message"): refused only when what follows looks like a secret.
AMBIGUOUS_WORD = r"(?:p[a@4]ss|pin(?: ?code)?|clave)"
# "password: x", "password = x", "password - x" (a spaced dash, so "password-protected" is a word).
LABEL = r"\s*[:=]\s*|[ \t]+[-–—]+\s+"
# "password is x" in the four languages; x must look like a secret (a digit, a symbol, quoted, or
# mixed case), so "my password is wrong" or "la clave es practicar" still goes through.
VERB = r"\s+(?:is|was|ist|war|lautet|est|c'est|était|es|era|sería)\s+"
SECRET_LOOKING = r"(?:[\"'‘“«„]\S+|(?=\S*\d)\S+|\S*[^\w\s.,!?;:'’()\-]\S*\w|(?-i:\S*[a-z]\S*[A-Z]\S*))"
SECRET = re.compile(
    rf"(?<!\w)(?:{SECRET_WORD}(?!\w)(?:(?:{LABEL})\S+|{VERB}{SECRET_LOOKING})"
    rf"|{AMBIGUOUS_WORD}(?!\w)(?:{LABEL}|{VERB}){SECRET_LOOKING})",
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


def normalise(text: str) -> str:
    """The text as a reader sees it: NFKC-folded, invisible characters gone, one kind of space."""
    folded = unicodedata.normalize("NFKC", text).translate(INVISIBLE)
    return SPACES.sub(" ", folded.replace("\r\n", "\n").replace("\r", "\n"))


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


def _has_card_number(text: str) -> bool:
    """Any run of digit groups holding 13-19 consecutive digits (whole groups) that pass Luhn.

    Whole groups, so "4242 4242 4242 4242 12/30" is found even with the expiry date stuck on.
    """
    for match in DIGIT_RUN.finditer(text):
        groups = re.findall(r"\d+", match.group())
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    return True
    return False


def _iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _has_iban(text: str) -> bool:
    for match in IBAN_RUN.finditer(text):
        compact = re.sub(r"[^A-Z0-9]", "", match.group().upper())
        known = IBAN_LENGTHS.get(compact[:2])
        lengths = [known] if known else range(15, 35)
        if any(len(compact) >= length and _iban_valid(compact[:length]) for length in lengths):
            return True
    return False


def refusal(text: str) -> str | None:
    """Why this text may not be sent, or None when it is fine."""
    text = normalise(text)
    if _has_card_number(text):
        return CARD_REFUSAL
    if _has_iban(text):
        return BANK_REFUSAL
    if SECRET.search(text):
        return SECRET_REFUSAL
    return None
