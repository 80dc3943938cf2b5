from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        from . import handlers  # noqa: F401  (registers this app's outbox handlers)
