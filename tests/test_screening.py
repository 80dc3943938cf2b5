"""The message guard: every known way around it is refused, and ordinary talk still goes through."""

import pytest

from bookings import screening

CARD = screening.CARD_REFUSAL
BANK = screening.BANK_REFUSAL
SECRET = screening.SECRET_REFUSAL


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # Card numbers split by anything a reader skips over.
        ("card 4242/4242/4242/4242", CARD),
        ("card 4242_4242_4242_4242", CARD),
        ("card 4242.4242.4242.4242", CARD),
        ("card 4242 - 4242 - 4242 - 4242", CARD),
        ("card 4242\u00a04242\u00a04242\u00a04242", CARD),  # no-break space
        ("card 4242\u20094242\u20094242\u20094242", CARD),  # thin space
        ("card 4242\u202f4242\u202f4242\u202f4242", CARD),  # narrow no-break space
        ("card 4242\n4242\n4242\n4242", CARD),
        ("card 4242\r\n4242\r\n4242\r\n4242", CARD),
        ("card 42\u200b42\u200c4242\u200d4242\u2060424\ufeff2", CARD),  # zero-width characters
        ("card ４２４２ ４２４２ ４２４２ ４２４２", CARD),  # full-width digits (NFKC)
        ("4242 4242 4242 4242 12/30 cvc on the back", CARD),  # the expiry stuck on the end
        ("amex 3782-822463-10005", CARD),
        # IBANs with dashes, dots, odd spaces or hidden characters.
        ("IBAN DE89-3704-0044-0532-0130-00", BANK),
        ("IBAN DE89.3704.0044.0532.0130.00", BANK),
        ("IBAN de89 3704 0044 0532 0130 00 thanks", BANK),
        ("GB82\u00a0WEST\u00a01234\u00a05698\u00a07654\u00a032", BANK),
        ("FR14 2004 1010 0505 0001 3M02 606", BANK),
        ("NL91\u200bABNA\u200b0417\u200b1643\u200b00", BANK),
        # Password phrasings.
        ("pw: hunter2", SECRET),
        ("PW:hunter2", SECRET),
        ("my pass is hunter2", SECRET),
        ("password - correcthorse", SECRET),
        ("p@ssword: correcthorse", SECRET),
        ("passw0rd = letmein", SECRET),
        ("passwd: letmein", SECRET),
        ("pwd: letmein", SECRET),
        ("pass\u200bword: letmein", SECRET),
        ("password:\nletmein", SECRET),
        ("my password is 'swordfish'", SECRET),
        ("my password is SwordFish", SECRET),
        # German, French, Spanish.
        ("Passwort: geheim123", SECRET),
        ("mein Passwort ist geheim123", SECRET),
        ("Das Kennwort lautet Sonne2024", SECRET),
        ("mot de passe : soleil99", SECRET),
        ("mon mot de passe est soleil99", SECRET),
        ("mdp: soleil99", SECRET),
        ("mi contraseña es sol2024", SECRET),
        ("contraseña: sol2024", SECRET),
        ("contrasena: sol2024", SECRET),
        ("la clave es 4821", SECRET),
        ("the PIN is 1234", SECRET),
        ("pin: 4821", SECRET),
        ("pass: hunter2", SECRET),
        ("CVV: 123", SECRET),
    ],
)
def test_each_way_around_the_guard_is_refused(text, why):
    assert screening.refusal(text) == why


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password yesterday, can we start 5 minutes late?",
        "My password is wrong again, I'll reset it",
        "The password is hashed with argon2 in our app",
        "What's the passing score for the exam?",
        "You pass the test if you get 70%",
        "The file is password-protected",
        "Call me at +1 555 123 4567 if the link fails",
        "Or on +49 30 1234 5678 (office)",
        "Let's meet 2026-11-24 at 10:30, or 25.11.2026 at 14:00",
        "The course was $1,250.00 / €1.100,00 last year",
        "Order 4242 4242 4242 4241 is not a card (fails the Luhn check)",
        "Order no. 4242-4242-4242-4241",
        "Room 1234, building 5678",
        "Palabras clave: Django, Python",
        "Boarding pass: attached to my e-mail",
        "Pin: the message at the top of the chat",
        "Clave: practicar cada día",
        "la clave es practicar cada día",
        "Das Passwort ist falsch, ich setze es zurück",
        "Mon mot de passe est oublié",
        "ISBN 978-3-16-148410-0 is the book I mentioned",
    ],
)
def test_ordinary_messages_go_through(text):
    assert screening.refusal(text) is None


def test_the_text_is_normalised_before_it_is_read():
    assert screening.normalise("a\u00a0b\u2009c\u202fd\u200be\ufeff\uff11") == "a b c de1"
