from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from . import handlers  # noqa: F401  (registers this app's outbox handlers)
