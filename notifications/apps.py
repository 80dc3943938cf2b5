from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from anymail.signals import tracking

        from . import data_rights, handlers  # noqa: F401  (register this app's data-rights parts and outbox handlers)
        from .suppression import provider_report_received

        # The e-mail provider's bounce and complaint reports, from anymail's webhook views.
        tracking.connect(provider_report_received, dispatch_uid="notifications.suppression")
