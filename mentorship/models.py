"""People: users, mentor profiles (with the application staff approve),
the services a mentor sells and the mentor's weekly availability."""

from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not a time zone we know. Pick one from the list, like Europe/Berlin.")


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
    display_name = models.CharField(max_length=80, help_text="How mentors and mentees see you.")
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


class MentorProfile(models.Model):
    """A mentor's public profile; created by applying, listed once staff approve."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="mentor_profile")
    headline = models.CharField(max_length=120, help_text="One line: what you help people with.")
    bio = models.TextField(help_text="Your experience and how you mentor.")
    expertise = models.CharField(
        max_length=200, help_text="Comma-separated topics, e.g. Django, system design, careers."
    )
    motivation = models.TextField(blank=True, help_text="For our staff: why you want to mentor here.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED)
    review_note = models.TextField(blank=True, help_text="Reason given to the applicant when not approved.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    minimum_notice = models.DurationField(
        default=timezone.timedelta(hours=12), help_text="How soon before a session it can still be booked."
    )
    booking_horizon_days = models.PositiveIntegerField(default=60, help_text="How far ahead sessions can be booked.")

    class Meta:
        ordering = ["user__display_name"]

    def __str__(self):
        return f"{self.user} ({self.get_status_display()})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def expertise_list(self) -> list[str]:
        return [topic.strip() for topic in self.expertise.split(",") if topic.strip()]


class Service(models.Model):
    """A session type a mentor sells: e.g. "30-min intro" for $40."""

    mentor = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="services")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(15), MaxValueValidator(480)])
    price_cents = models.PositiveIntegerField(
        validators=[MinValueValidator(100)], help_text="Price in cents, e.g. 4000 for $40.00."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["duration_minutes", "price_cents"]

    def __str__(self):
        return f"{self.title} ({self.duration_minutes} min)"

    @property
    def duration(self):
        return timezone.timedelta(minutes=self.duration_minutes)


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
