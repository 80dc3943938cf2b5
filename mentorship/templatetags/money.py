from django import template

register = template.Library()


@register.filter
def cents(amount_cents, currency: str = "usd") -> str:
    """4000 -> "$40.00"; negative amounts keep their sign in front."""
    if amount_cents is None:
        return ""
    sign = "−" if amount_cents < 0 else ""
    symbol = "$" if currency.lower() == "usd" else f"{currency.upper()} "
    return f"{sign}{symbol}{abs(amount_cents) / 100:,.2f}"


@register.filter
def dollars(amount_cents) -> str:
    """3450 -> "34.50", for number inputs."""
    return f"{amount_cents / 100:.2f}"
