from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        from . import data_rights, handlers  # noqa: F401  (register this app's data-rights parts and outbox handlers)
