"""In-app notifications; each e-mail we send is stored here first."""

from django.conf import settings
from django.db import models

from bookings.models import Booking


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    # What this notice is about, once: "booking-12-booking_confirmed-user-3", "payout-7".
    key = models.CharField(max_length=100, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} to {self.user}"


class Preferences(models.Model):
    """Which e-mails a person wants. In-app notifications are always kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_bookings = models.BooleanField(
        "Bookings: requests, confirmations, changes, cancellations, refunds", default=True
    )
    email_reminders = models.BooleanField("Reminders before sessions and nudges about open requests", default=True)
    email_payouts = models.BooleanField("Payouts (mentors)", default=True)

    def __str__(self):
        return f"E-mail preferences of {self.user}"


class CalendarFeed(models.Model):
    """A secret address listing a person's sessions, for their own calendar app. Resetting it revokes the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"
