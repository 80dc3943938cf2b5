from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from bookings import selectors as booking_selectors

        from . import data_rights, handlers  # noqa: F401  (register this app's data-rights parts and outbox handlers)
        from .selectors import refund_card_last4

        # What booking pages and notices show of payments, without bookings or notifications naming it.
        if "payments__refunds" not in booking_selectors.LIST_PREFETCHES:
            booking_selectors.LIST_PREFETCHES.append("payments__refunds")
        booking_selectors.FACTS["card_last4"] = refund_card_last4
