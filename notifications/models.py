"""In-app notifications; each e-mail we send is stored here first."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from bookings.models import Booking


class Notification(models.Model):
    class Email(models.TextChoices):
        SKIPPED = "skipped", "Not wanted"  # the person turned this kind of e-mail off
        PENDING = "pending", "To send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, to retry"
        GAVE_UP = "gave_up", "Failed for good"
        # The provider reported the address bounces or complains (UndeliverableAddress): never retried.
        SUPPRESSED = "suppressed", "Not sent: address undeliverable"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    # What this notice is about, once: "booking-12-booking_confirmed-user-3", "payout-7".
    key = models.CharField(max_length=100, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Where "Open" goes: the booking, the conversation, Earnings. A path on this site.
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    email_status = models.CharField(max_length=10, choices=Email.choices, default=Email.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # When the last attempt started; a "sending" row older than a few minutes belongs to a worker that died.
    email_attempted_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["email_status", "email_attempted_at"], name="notification_email_todo"),
            # A person's list, newest first, a page at a time.
            models.Index(fields=["user", "created_at"], name="notification_user_created"),
            # The admin list: newest first, whole or by kind.
            models.Index(fields=["created_at"], name="notification_created"),
            models.Index(fields=["kind", "created_at"], name="notification_kind_created"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.user}"


class UndeliverableAddress(models.Model):
    """An address the e-mail provider reported as bouncing, complaining or refused (notifications.suppression).

    Our notices are not e-mailed to it (they stay in the app) until its owner says it works again or staff delete
    the row; sign-in and password mails still go, so a person can always fix their address."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Reported as spam"
        REJECTED = "rejected", "Refused by the provider"

    # Lower case, so one address is one row however it was typed.
    email = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    provider = models.CharField(max_length=40, help_text="Who reported it, as anymail names it: Mailgun, Postmark …")
    description = models.CharField(max_length=300, blank=True, help_text="What the provider said, shortened.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="undeliverable_address_lower_case",
                violation_error_message="Write the address in lower case.",
            )
        ]

    def __str__(self):
        return self.email

    def clean(self):
        self.email = self.email.strip().lower()  # typed in admin: the same form the webhook stores


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
    email_messages = models.BooleanField(
        "New messages (at most one e-mail per conversation every few minutes)", default=True
    )

    def __str__(self):
        return f"E-mail preferences of {self.user}"


class CalendarFeed(models.Model):
    """A secret address listing a person's sessions, for their own calendar app. Resetting it revokes the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"


class Conversation(models.Model):
    """Messages between one mentee and one mentor, started from the mentor's profile or a booking."""

    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    mentor = models.ForeignKey("mentorship.MentorProfile", on_delete=models.CASCADE, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # Messages after these times are unread for that side.
    mentee_read_at = models.DateTimeField()
    mentor_read_at = models.DateTimeField()
    # The last new-message e-mail to each side; e-mails are throttled per conversation.
    mentee_emailed_at = models.DateTimeField(null=True, blank=True)
    mentor_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mentee", "mentor"], name="one_conversation_per_pair")]
        ordering = ["-last_message_at"]

    def __str__(self):
        return f"{self.mentee} ↔ {self.mentor}"

    def side_of(self, user) -> str | None:
        if user.pk == self.mentee_id:
            return "mentee"
        if user.pk == self.mentor.user_id:
            return "mentor"
        return None


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=4000)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Sent from this booking."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self):
        return f"Message {self.pk} from {self.sender}"
