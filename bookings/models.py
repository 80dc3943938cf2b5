"""Bookings and their audit trail. Only bookings.services changes a status."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mentorship.models import MentorProfile, Service


class Booking(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held for checkout"
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        ABANDONED = "abandoned", "Abandoned"
        NO_SHOW = "no_show", "Mentor no-show"

    # Statuses whose time is taken on the mentor's calendar.
    BLOCKING = (Status.HELD, Status.PENDING, Status.CONFIRMED)

    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(help_text="Stored in UTC.")
    end = models.DateTimeField()
    # The session widened by its buffers: no two blocking bookings of a mentor may overlap here.
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    message = models.TextField(blank=True, help_text="What the mentee wants to work on.")
    # A copy of the price at booking time: later price changes must not touch it.
    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["mentor", "status", "start"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=models.F("start"), blocked_end__gte=models.F("end")),
                name="booking_blocks_at_least_its_session",
            ),
        ]
        # PostgreSQL also holds an exclusion constraint (migration 0003): blocking bookings
        # of one mentor never overlap, buffers included.

    def __str__(self):
        return f"Booking #{self.pk}: {self.service} with {self.mentor.user} ({self.status})"

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def is_party(self, user) -> bool:
        return user.pk in (self.mentee_id, self.mentor.user_id)


class BookingEvent(models.Model):
    """Audit row for every transition: who, when, from what to what, and why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=16, blank=True, choices=Booking.Status.choices)
    to_status = models.CharField(max_length=16, choices=Booking.Status.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"
