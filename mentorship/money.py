"""How amounts of money read, everywhere: pages, e-mails and messages."""


def format_cents(amount_cents: int, currency: str = "usd") -> str:
    """4000 -> "$40.00"; negative amounts keep their sign in front."""
    sign = "−" if amount_cents < 0 else ""
    symbol = "$" if currency.lower() == "usd" else f"{currency.upper()} "
    return f"{sign}{symbol}{abs(amount_cents) / 100:,.2f}"


FREE = "Free"


def format_price(amount_cents: int, currency: str = "usd") -> str:
    """What something costs, as pages and e-mails show it: "Free" for a free session type, else format_cents."""
    return FREE if amount_cents == 0 else format_cents(amount_cents, currency)
