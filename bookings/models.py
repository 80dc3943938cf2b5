"""Bookings and their audit trail. Only bookings.services changes a status."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from mentorship.models import MentorProfile, Service

# Meeting and availability links: long enough for any video-call link with its passcode; the form says the same.
LINK_MAX_LENGTH = 500
SUPPORT_NOTE_MAX_LENGTH = 2000


NUDGE_AFTER = (timedelta(hours=24), timedelta(hours=72))


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

    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(help_text="Stored in UTC.")
    end = models.DateTimeField()
    # The session widened by its buffers: no two blocking bookings of a mentor may overlap here.
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    message = models.TextField(blank=True, max_length=2000, help_text="What the mentee wants to work on.")
    accessibility_needs = models.TextField(
        blank=True, max_length=1000, help_text="What the mentee asked the mentor to plan for."
    )
    # A copy of the price at booking time: later price changes must not touch it.
    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    # The policy as agreed at checkout: later changes to the mentor's policy do not touch it.
    cancellation_window_hours = models.PositiveIntegerField(default=24)
    reschedule_limit = models.PositiveIntegerField(default=2)
    reschedules_used = models.PositiveIntegerField(default=0)
    no_show_policy = models.CharField(max_length=300, blank=True)
    lateness_policy = models.CharField(max_length=300, blank=True)
    service_policy = models.TextField(blank=True, help_text="The session type's own terms, as shown at checkout.")
    # Paid with a package credit instead of a card; the credit comes back when the booking ends without a session.
    package_purchase = models.ForeignKey(
        "PackagePurchase", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    credit_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Which of the package's credits."
    )
    credit_returned = models.BooleanField(default=False)
    credit_returned_at = models.DateTimeField(null=True, blank=True)
    # Added by the mentor after confirming (seed 001).
    meeting_link = models.URLField(blank=True, max_length=LINK_MAX_LENGTH)
    availability_link = models.URLField(blank=True, max_length=LINK_MAX_LENGTH)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, blank=True, choices=[("mentee", "Mentee"), ("mentor", "Mentor")])
    # What the cancellation meant for the money, as the policy said at that moment (shown and e-mailed).
    cancellation_summary = models.CharField(max_length=300, blank=True)
    # The mentor cancelled: until then the mentee may pick a new time (paid already) instead of the refund,
    # which is made when they ask for it or when this passes. Empty once they chose (or for any other end).
    rebook_until = models.DateTimeField(null=True, blank=True)
    # Reminder sweepers claim their work here with conditional updates, so nothing is sent twice.
    last_reminder_hours = models.FloatField(null=True, blank=True, help_text="The last reminder sent, in hours before.")
    nudges_sent = models.PositiveSmallIntegerField(default=0)
    # When the next nudge to answer a pending request is due (nudge_moments), so the sweeper reads only those.
    nudge_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    complete_reminder_sent = models.BooleanField(default=False)
    # Goes up with every change a calendar must hear about (confirm, move, cancel): the .ics SEQUENCE.
    calendar_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["mentor", "status", "start"]),
            models.Index(fields=["status", "hold_expires_at"]),
            # The beat sweepers' due times: each reads a range of one of these, never every booking.
            models.Index(fields=["start"], condition=Q(status="pending"), name="booking_pending_start"),
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="booking_pending_created"),
            models.Index(fields=["nudge_due_at"], condition=Q(status="pending"), name="booking_nudge_due"),
            models.Index(fields=["start"], condition=Q(status="confirmed"), name="booking_confirmed_start"),
            models.Index(fields=["end"], condition=Q(status="confirmed"), name="booking_confirmed_end"),
            models.Index(fields=["rebook_until"], condition=Q(rebook_until__isnull=False), name="booking_rebook_due"),
            # The lists' sections of several statuses (newest called-off first) and the calendar feed's window.
            models.Index(fields=["mentor", "start"], name="booking_mentor_start"),
            models.Index(fields=["mentee", "status", "start"], name="booking_mentee_status_start"),
            # The admin list: in time order, whole or by status.
            models.Index(fields=["start"], name="booking_start"),
            models.Index(fields=["status", "start"], name="booking_status_start"),
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

    @property
    def is_free(self) -> bool:
        """A free session type's booking: no card, no payment, nothing to refund or earn."""
        return self.price_cents == 0 and self.package_purchase_id is None

    def is_party(self, user) -> bool:
        return user.pk in (self.mentee_id, self.mentor.user_id)

    # Contact details (e-mail address) are shared only once the other side has committed, and only
    # while the session is on or has taken place. Pages, e-mails and calendar files all ask these two.
    MENTOR_CONTACT_STATUSES = frozenset({Status.CONFIRMED, Status.COMPLETED})  # the mentor confirmed
    MENTEE_CONTACT_STATUSES = frozenset({Status.PENDING, Status.CONFIRMED, Status.COMPLETED})  # the mentee paid

    @property
    def mentor_contact_shown(self) -> bool:
        """The mentee may see the mentor's e-mail address: only once the mentor confirmed."""
        return self.status in self.MENTOR_CONTACT_STATUSES

    @property
    def mentee_contact_shown(self) -> bool:
        """The mentor may see the mentee's e-mail address: only once the mentee paid."""
        return self.status in self.MENTEE_CONTACT_STATUSES

    @property
    def cancellation_deadline(self):
        """Until this moment a mentee who cancels gets everything back."""
        return self.start - timezone.timedelta(hours=self.cancellation_window_hours)

    @property
    def pending_expires_at(self):
        """An unanswered request is cancelled and refunded at this moment: BOOKING_PENDING_TIMEOUT after it was
        made, or at the start if that comes first (the rule the expiry sweeper keeps)."""
        return min(self.created_at + settings.BOOKING_PENDING_TIMEOUT, self.start)

    def nudge_moments(self) -> list:
        """When the mentor is told about an unanswered request: 24 h and 72 h after it was made and the day
        before it expires, only while it is open (with a short timeout "the day before" may come first)."""
        expires = self.pending_expires_at
        candidates = [self.created_at + after for after in NUDGE_AFTER] + [expires - timedelta(hours=24)]
        return sorted(moment for moment in candidates if self.created_at < moment < expires)

    def next_nudge_at(self):
        """The moment the next nudge is due, after the `nudges_sent` already sent; None when none is left."""
        moments = self.nudge_moments()
        return moments[self.nudges_sent] if self.nudges_sent < len(moments) else None

    def join_opens_at(self):
        return self.start - timezone.timedelta(minutes=10)


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


class SupportTicket(models.Model):
    """A no-show report or a dispute, settled by staff in admin."""

    class Kind(models.TextChoices):
        MENTOR_NO_SHOW = "mentor_no_show", "Mentor did not show up"
        MENTEE_NO_SHOW = "mentee_no_show", "Mentee did not show up"
        DISPUTE = "dispute", "Dispute"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        MENTOR_NO_SHOW_REFUND = "mentor_no_show_refund", "Mentor no-show — full refund"
        MENTEE_NO_SHOW = "mentee_no_show", "Mentee no-show — per policy"
        FULL_REFUND = "full_refund", "Dispute — full refund"
        REJECTED = "rejected", "Claim rejected"

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="tickets")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.TextField(blank=True, max_length=SUPPORT_NOTE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=30, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind"], condition=Q(status="open"), name="one_open_ticket_per_booking_and_kind"
            )
        ]

    def __str__(self):
        return f"Ticket #{self.pk}: {self.get_kind_display()} (booking #{self.booking_id}, {self.status})"


class SuggestedTime(models.Model):
    """A free time the mentor offers instead of the requested one; the mentee accepts one with a click."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="suggestions")
    start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["booking", "start"], name="one_suggestion_per_time")]

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M} for booking #{self.booking_id}"


class Review(models.Model):
    """The mentee's word on a completed session: one per booking, editable for a while; the mentor may answer once."""

    EDITABLE_FOR = timedelta(days=14)

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="review")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="reviews")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_given")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reply = models.TextField(max_length=2000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["mentor", "hidden_at", "-created_at"])]
        constraints = [models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5")]

    def __str__(self):
        return f"{self.rating}★ for {self.mentor} by {self.mentee}"

    @property
    def editable_until(self):
        return self.created_at + self.EDITABLE_FOR


class Package(models.Model):
    """A mentor's bundle: N sessions of one session type for one price, to be used within so many days."""

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="packages")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="packages")
    sessions = models.PositiveSmallIntegerField(validators=[MinValueValidator(2), MaxValueValidator(20)])
    price_cents = models.PositiveIntegerField(validators=[MinValueValidator(100)])
    valid_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(7), MaxValueValidator(365)], help_text="Credits expire after this."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service__position", "sessions"]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        return f"{self.sessions} × {self.service.title}"

    @property
    def saving_cents(self) -> int:
        return max(self.service.price_cents * self.sessions - self.price_cents, 0)


class PackagePurchase(models.Model):
    """A mentee's bought package: its credits, and when they expire. Paid through the same checkout as bookings."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        ABANDONED = "abandoned", "Not paid"

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="package_purchases")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="package_sales")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    # The terms as bought: the package may change later.
    sessions = models.PositiveSmallIntegerField()
    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    valid_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_reminder_sent = models.BooleanField(default=False)
    # Set when the value of credits left unused at expiry went to the mentor (once).
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["mentee", "status", "expires_at"]),
            # The package sweeps' due times (bookings.packages.run_sweeps): paid and not settled, by expiry;
            # unpaid, by creation.
            models.Index(
                fields=["expires_at"], condition=Q(status="paid", settled_at__isnull=True), name="purchase_unsettled"
            ),
            models.Index(fields=["created_at"], condition=Q(status="awaiting_payment"), name="purchase_unpaid"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "package"],
                condition=Q(status="awaiting_payment"),
                name="one_open_purchase_per_package",
            )
        ]

    def __str__(self):
        return f"{self.sessions} × {self.service} for {self.mentee} ({self.get_status_display()})"

    @property
    def title(self) -> str:
        return f"{self.sessions} × {self.service.title}"

    def credit_value_cents(self, position: int) -> int:
        """What the `position`-th credit (1..sessions) is worth; the values add up to the price exactly."""
        return self.price_cents * position // self.sessions - self.price_cents * (position - 1) // self.sessions
