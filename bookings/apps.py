from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        from mentorship import connected_calendars

        from . import data_rights, handlers, selectors  # noqa: F401  (register this app's data-rights parts and outbox handlers)

        connected_calendars.counts_bookings(selectors.counted_booking_ids)
