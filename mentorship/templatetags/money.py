from django import template

from mentorship.money import format_cents, format_price

register = template.Library()


@register.filter
def cents(amount_cents, currency: str = "usd") -> str:
    """4000 -> "$40.00"; negative amounts keep their sign in front."""
    return "" if amount_cents is None else format_cents(amount_cents, currency)


@register.filter
def price(amount_cents, currency: str = "usd") -> str:
    """A price: 0 -> "Free", 4000 -> "$40.00". Balances, refunds and totals use `cents`."""
    return "" if amount_cents is None else format_price(amount_cents, currency)


@register.filter
def dollars(amount_cents) -> str:
    """3450 -> "34.50", for number inputs."""
    return f"{amount_cents / 100:.2f}"
