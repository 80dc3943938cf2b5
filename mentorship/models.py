"""People: users, mentor profiles (with the application staff approve),
the services a mentor sells and the mentor's weekly availability."""

import unicodedata
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from . import rich_text
from .rich_text import BIO_MAX_LENGTH
from .zones import is_known_zone


def validate_time_zone(value: str) -> None:
    if not is_known_zone(value):
        raise ValidationError(f"“{value}” is not a time zone we know. Pick one from the list, like Europe/Berlin.")


# The least a paid session type may cost: card networks refuse smaller charges. Below it, only free ($0).
MIN_PAID_PRICE_CENTS = 100
MAX_FREE_SESSIONS_PER_MENTEE = 100


def validate_price(value: int) -> None:
    if 0 < value < MIN_PAID_PRICE_CENTS:
        raise ValidationError("A price is either 0 (free) or at least $1.00.", code="price_below_minimum")


def validate_single_line(value: str) -> None:
    """Names and titles end up in e-mail subjects and calendar entries: one line, no control characters.

    A line break in a header would end it (or inject another), so such a value once stopped
    every e-mail about the person's bookings.
    """
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValidationError("Write this on one line.", code="single_line")  # as our forms say (input_rules)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone with an account. Everyone can book; some are also mentors."""

    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(
        max_length=80, validators=[validate_single_line], help_text="How mentors and mentees see you."
    )
    accessibility_needs = models.TextField(
        blank=True,
        max_length=1000,
        help_text="For example captions, a language, a slower pace. Your mentor sees this on each booking request.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Times on every page and in every e-mail are shown in this zone.",
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    def __str__(self):
        return self.display_name or self.email

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def approved_mentor_profile(self):
        profile = getattr(self, "mentor_profile", None)
        return profile if profile is not None and profile.is_approved else None


def default_cancellation_window_hours() -> int:
    """The window a new mentor starts with: the operator's BOOKING_CANCELLATION_WINDOW_HOURS."""
    return settings.BOOKING_CANCELLATION_WINDOW_HOURS


class MentorProfile(models.Model):
    """A mentor's public profile; created by applying, listed once staff approve."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="mentor_profile")
    headline = models.CharField(max_length=120, help_text="One line: what you help people with.")
    bio = models.TextField(
        max_length=BIO_MAX_LENGTH,
        validators=[MaxLengthValidator(BIO_MAX_LENGTH)],
        help_text="Your experience and how you mentor.",
    )
    # The bio rendered once when saved (see save()), sanitised: pages show this and never render Markdown.
    bio_html = models.TextField(blank=True, editable=False)
    expertise = models.CharField(
        max_length=200, help_text="Comma-separated topics, e.g. Django, system design, careers."
    )
    languages = models.CharField(
        max_length=200, default="English", help_text="Comma-separated languages you mentor in, e.g. English, German."
    )
    photo = models.ImageField(upload_to="mentors/", blank=True)
    motivation = models.TextField(
        blank=True,
        max_length=3000,
        validators=[MaxLengthValidator(3000)],
        help_text="For our staff: why you want to mentor here.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED)
    # The earliest time any open session type can be booked; kept fresh by a background job
    # (bookings.directory), so the directory can filter and sort on it without computing slots.
    next_free_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Goes up (mentorship.services.availability_changed) with every change that can change free time: bookings,
    # hours, days off, session types, booking rules. Cached slot lists are keyed by it.
    availability_version = models.PositiveIntegerField(default=0, editable=False)
    # The version next_free_at was computed at (-1: never), and when it must be computed again even if
    # nothing changed (it comes within the minimum notice, or the horizon moved on): the background refresh
    # picks only mentors stale on one of these.
    next_free_version = models.IntegerField(default=-1, editable=False)
    next_free_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Stored for the directory's filters and sorts, so a page reads columns rather than every mentor's rows:
    # the last day the mentor is listed (mentorship.listing), the lowest price of an open session type,
    # and the average and number of visible reviews (bookings.reviews). The average is cut, not rounded,
    # to six places, so "4 stars and up" and the order match the exact average.
    listed_until = models.DateField(null=True, blank=True, editable=False, db_index=True)
    lowest_price_cents = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rating_average = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True, editable=False)
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    review_note = models.TextField(
        blank=True,
        max_length=2000,
        validators=[MaxLengthValidator(2000)],
        help_text="Reason given to the applicant when not approved.",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)

    # Scheduling rules (the Schedule page). Times are in the mentor's own zone.
    class DisplayZone(models.TextChoices):
        VIEWER = "viewer", "The visitor's time zone"
        MENTOR = "mentor", "My time zone"

    minimum_notice_hours = models.PositiveIntegerField(
        default=12,
        validators=[MaxValueValidator(24 * 30)],
        help_text="How soon before a session it can still be booked.",
    )
    booking_horizon_days = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How far ahead it can be booked.",
    )
    slot_interval_minutes = models.PositiveIntegerField(
        default=30,
        choices=[(15, "Every 15 minutes"), (20, "Every 20 minutes"), (30, "Every 30 minutes"), (60, "Every hour")],
        help_text="How often a session may start.",
    )
    buffer_before_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Free time kept before each session."
    )
    buffer_after_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Free time kept after each session."
    )
    max_sessions_per_day = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Leave empty for no limit."
    )
    cancellation_window_hours = models.PositiveIntegerField(
        default=default_cancellation_window_hours,
        validators=[MaxValueValidator(24 * 14)],
        help_text="Mentees who cancel earlier than this before the start get a full refund.",
    )
    reschedule_limit = models.PositiveIntegerField(
        default=2, validators=[MaxValueValidator(10)], help_text="How often a mentee may move a booking."
    )
    no_show_policy = models.CharField(
        max_length=300,
        blank=True,
        default="If you don't join within 10 minutes, the session counts as held and is not refunded.",
        help_text="What happens when a mentee does not come, in your words.",
    )
    lateness_policy = models.CharField(
        max_length=300,
        blank=True,
        default="Running late? Message me; the session still ends on time.",
        help_text="What happens when a mentee is late, in your words.",
    )
    slot_display_zone = models.CharField(
        max_length=8,
        choices=DisplayZone.choices,
        default=DisplayZone.VIEWER,
        help_text="Which zone your profile shows times in first; visitors can switch.",
    )

    class Meta:
        ordering = ["user__display_name"]
        # Also "mentor_by_rating" (rating_average DESC NULLS LAST, rating_count DESC), made by migration 0012
        # because SQLite cannot write NULLS LAST in an index.
        indexes = [
            # The background refresh's two reasons to recompute a next free time (bookings.directory).
            models.Index(fields=["next_free_due_at"], name="mentor_next_free_due"),
            models.Index(
                fields=["id"],
                condition=models.Q(next_free_version__lt=models.F("availability_version")),
                name="mentor_next_free_stale",
            ),
            models.Index(fields=["lowest_price_cents"], name="mentor_by_price"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_status_display()})"

    def save(self, *args, update_fields=None, **kwargs):
        # Whoever saves the bio (services, the admin, test factories) saves its HTML with it.
        if update_fields is None or "bio" in update_fields:
            self.bio_html = rich_text.bio_html(self.bio)
            if update_fields is not None:
                update_fields = {*update_fields, "bio_html"}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def minimum_notice(self):
        return timezone.timedelta(hours=self.minimum_notice_hours)

    @property
    def expertise_list(self) -> list[str]:
        return [topic.strip() for topic in self.expertise.split(",") if topic.strip()]

    @property
    def photo_url(self) -> str:
        """Where the photo is served; the name (random per upload) makes each version's address its own."""
        if not self.photo:
            return ""
        return f"{reverse('mentor_photo', args=[self.pk])}?v={self.photo.name.rsplit('/', 1)[-1].split('.')[0]}"

    @property
    def languages_list(self) -> list[str]:
        return [language.strip() for language in self.languages.split(",") if language.strip()]


class Service(models.Model):
    """A session type a mentor sells: e.g. "30-min intro" for $40."""

    class Format(models.TextChoices):
        ONLINE = "online", "Online (video call)"
        IN_PERSON = "in_person", "In person"

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="services")
    title = models.CharField(max_length=100, validators=[validate_single_line])  # e-mail subjects name it
    description = models.TextField(blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.ONLINE)
    address = models.CharField(max_length=300, blank=True, help_text="Where in-person sessions take place.")
    access_notes = models.TextField(
        blank=True, max_length=1000, help_text="Entrance, floor, buzzer, step-free access, parking, transport."
    )
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(15), MaxValueValidator(480)])
    price_cents = models.PositiveIntegerField(
        validators=[validate_price], help_text="Price in cents, e.g. 4000 for $40.00; 0 for a free session type."
    )
    # Only for a free session type: how many of its bookings (not cancelled or declined) one mentee may have with
    # this mentor, e.g. one free intro call each. Empty: no limit.
    free_sessions_per_mentee = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FREE_SESSIONS_PER_MENTEE)],
        help_text="Only for free session types. Empty: no limit.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Order on the profile: lower first.")
    policy = models.TextField(
        blank=True,
        max_length=1000,
        help_text="Anything special about this session type: what to prepare, lateness, no-shows.",
    )
    cancellation_window_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(24 * 14)], help_text="Empty: your general policy."
    )
    buffer_before_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(240)], help_text="Empty: your schedule's buffer."
    )
    buffer_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(240)], help_text="Empty: your schedule's buffer."
    )

    class Meta:
        ordering = ["position", "duration_minutes", "price_cents"]
        # The directory's lowest price and price filter look up a mentor's open session types by price.
        indexes = [models.Index(fields=["mentor", "is_active", "price_cents"], name="service_open_by_price")]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_cents=0) | Q(price_cents__gte=MIN_PAID_PRICE_CENTS), name="service_free_or_payable"
            ),
            models.CheckConstraint(
                condition=Q(free_sessions_per_mentee__isnull=True) | Q(price_cents=0),
                name="service_free_cap_only_when_free",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.duration_minutes} min)"

    def clean(self):
        if self.format == self.Format.IN_PERSON and not self.address.strip():
            raise ValidationError({"address": "Give the address where in-person sessions take place."})
        # (A price below the minimum has its own error: one message about the price is enough.)
        if self.free_sessions_per_mentee is not None and (self.price_cents or 0) >= MIN_PAID_PRICE_CENTS:
            raise ValidationError(
                {
                    "free_sessions_per_mentee": "Only a free session type can have a limit per mentee: "
                    "leave this empty, or set the price to 0."
                }
            )

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0

    @property
    def in_person(self) -> bool:
        return self.format == self.Format.IN_PERSON

    @property
    def duration(self):
        return timezone.timedelta(minutes=self.duration_minutes)

    @property
    def effective_cancellation_window_hours(self) -> int:
        own = self.cancellation_window_hours
        return self.mentor.cancellation_window_hours if own is None else own

    @property
    def buffer_before(self):
        minutes = self.buffer_before_minutes
        return timezone.timedelta(minutes=self.mentor.buffer_before_minutes if minutes is None else minutes)

    @property
    def buffer_after(self):
        minutes = self.buffer_after_minutes
        return timezone.timedelta(minutes=self.mentor.buffer_after_minutes if minutes is None else minutes)


class AvailabilityRule(models.Model):
    """A weekly range of wall-clock time in the mentor's own zone.

    Stored as wall-clock times, not UTC, so 09:00–17:00 stays 09:00–17:00 on both
    sides of a daylight-saving change.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="availability_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class DateOverride(models.Model):
    """Different hours on one date. A row without times makes the date a day off.

    Any override on a date replaces the weekly hours for that date.
    """

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True) | Q(end_time__gt=models.F("start_time")),
                name="override_day_off_or_end_after_start",
            ),
        ]

    def __str__(self):
        if self.start_time is None:
            return f"{self.date}: day off"
        return f"{self.date}: {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def is_day_off(self) -> bool:
        return self.start_time is None


class Vacation(models.Model):
    """Dates (inclusive, in the mentor's zone) with no availability at all."""

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="vacations")
    start_date = models.DateField()
    end_date = models.DateField()
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="vacation_end_not_before_start"
            ),
        ]

    def __str__(self):
        return f"{self.start_date} – {self.end_date}"


class OutboxEntry(models.Model):
    """A side effect decided in a transaction, written in that same transaction and done after commit.

    One row per handler of a topic (mentorship.outbox). The row is the promise: Celery only
    carries it out, and a sweeper dispatches again whatever is not done, so a broker outage or a
    dead worker delays a refund or an e-mail but never loses it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "To do"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Gave up (staff to look)"

    topic = models.CharField(max_length=60)
    handler = models.CharField(max_length=120)
    payload = models.JSONField(default=dict)
    # Done once per key, however often it is recorded: "booking-3-booking_rescheduled-seq-4".
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not to be started before this (the backoff after a failure).
    available_at = models.DateTimeField(default=timezone.now)
    # A running row whose lease ran out belongs to a worker that died.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "outbox entries"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "available_at"], name="outbox_todo"),
            # The sweep forgets done rows after a while: a range of these, not every done row.
            models.Index(fields=["done_at"], condition=Q(status="done"), name="outbox_done"),
        ]

    def __str__(self):
        return f"{self.topic} → {self.handler} #{self.pk} ({self.status})"


class ConnectedCalendar(models.Model):
    """A calendar of the mentor's elsewhere (Google, Outlook, iCloud …) whose events make them busy here.

    Its address is a secret (Google's "secret address in iCal format" reads the whole calendar), so it is
    kept encrypted (mentorship.sealed) and never shown back whole. Sync state says what the mentor sees:
    the last good sync, and the last error if the latest try failed (the last good busy time stays).
    """

    class Kind(models.TextChoices):
        ICS = "ics", "Calendar address (iCal)"
        CALDAV = "caldav", "CalDAV calendar"

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="calendars")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ICS)
    name = models.CharField(max_length=80, validators=[validate_single_line])
    # ICS: the address. CalDAV: JSON of the calendar's address, the user name and the (app) password.
    sealed_address = models.TextField(editable=False)
    counts_busy = models.BooleanField(default=True)  # its events hide slots
    write_back = models.BooleanField(default=False)  # CalDAV: confirmed sessions are written into it
    address_hint = models.CharField(max_length=120, editable=False)  # "calendar.google.com/…", safe to show
    # Conditional requests: a feed that did not change costs the server nothing and us no parsing.
    etag = models.CharField(max_length=200, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)  # the last good read
    # The end of the time the stored busy intervals cover: once the horizon moves past it, the feed is read
    # whole again even if unchanged (a weekly meeting goes on past what we expanded).
    covered_until = models.DateTimeField(null=True, blank=True, editable=False)
    read_in_zone = models.CharField(max_length=64, blank=True, editable=False)  # the mentor's zone then
    last_size = models.PositiveIntegerField(default=0, editable=False)  # bytes of the last read
    last_tried_at = models.DateTimeField(null=True, blank=True, editable=False)  # claimed by a sync then
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["last_tried_at"], name="calendar_sync_due")]
        constraints = [
            models.UniqueConstraint(fields=["mentor"], condition=Q(write_back=True), name="one_write_back_calendar")
        ]

    def __str__(self):
        return self.name


class BusyInterval(models.Model):
    """Time an imported calendar says the mentor is busy (UTC), inside the booking horizon."""

    calendar = models.ForeignKey(ConnectedCalendar, on_delete=models.CASCADE, related_name="busy")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="busy_intervals")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["mentor", "start"], name="busy_by_mentor")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="busy_ends_after_start")]

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%H:%M} UTC"
