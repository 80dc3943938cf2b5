from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from . import handlers  # noqa: F401  (registers this app's outbox handlers)
