"""Forms for accounts and the mentor side. They validate; services write."""

import json
from datetime import time
from decimal import Decimal

from django import forms
from django.utils import timezone

from . import hours, photos
from .input_rules import BoundedForm
from .models import AvailabilityRule, MentorProfile, Service, validate_price, validate_time_zone
from .zones import BROWSER_ALIASES, canonical_zone, zone_choices, zone_label


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("help_text", "We show every time in this zone. We picked the one your browser uses.")
        # Labelled in words ("New York (EST, UTC−5)"), in the order of the places' names.
        super().__init__(choices=zone_choices, validators=[validate_time_zone], **kwargs)

    def offer(self, value: str) -> None:
        """Make sure a zone shows as an option (a rarer IANA name the user already has), so it stays selected."""
        if value and value not in dict(self.choices):
            self.choices = [*self.choices, (value, zone_label(value))]

    def to_python(self, value):
        return canonical_zone(super().to_python(value))

    def valid_value(self, value):
        # Any IANA zone is fine, even one outside the common list; the validator checks it exists.
        return True


class SignupForm(BoundedForm, forms.Form):
    """Extra sign-up fields for allauth: a name and the browser's time zone."""

    display_name = forms.CharField(label="Your name", max_length=80)  # one line: BoundedForm
    time_zone = TimeZoneField(initial="UTC")

    field_order = ["display_name", "email", "password1", "password2", "time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.attrs.update(
            {"data-detect-time-zone": "true", "data-aliases": json.dumps(BROWSER_ALIASES)}
        )

    def signup(self, request, user):
        user.display_name = self.cleaned_data["display_name"]
        user.time_zone = self.cleaned_data["time_zone"]
        user.save(update_fields=["display_name", "time_zone"])


class AccountSettingsForm(BoundedForm, forms.Form):
    display_name = forms.CharField(label="Your name", max_length=80)  # one line: BoundedForm
    time_zone = TimeZoneField(help_text="We show every time in this zone.")
    accessibility_needs = forms.CharField(
        label="Accessibility needs",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example captions, a language, a slower pace. We add this to your booking requests, "
        "so your mentor can plan the session; you can change it for each booking.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].offer(self.initial.get("time_zone", ""))


class AccountDeleteForm(BoundedForm, forms.Form):
    """Deleting an account asks for the password again: a session left open on a shared computer is not enough."""

    password = forms.CharField(label="Your password", max_length=128, strip=False, widget=forms.PasswordInput)
    understood = forms.BooleanField(label="I understand that my account cannot be restored.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class MentorProfileForm(BoundedForm, forms.ModelForm):
    class Meta:
        model = MentorProfile
        fields = ["headline", "bio", "expertise", "languages"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "bio": "Your experience and how you mentor, up to 5,000 characters. "
            "Markdown works: **bold**, *italic*, lists, [links](https://…)."
        }


class PhotoForm(BoundedForm, forms.Form):
    photo = forms.FileField(
        label="Profile photo",
        required=False,
        help_text="JPEG, PNG or WebP up to 5 MB. We crop it to a square.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        return photos.square_jpeg(upload) if upload else None


class MentorApplicationForm(MentorProfileForm):
    class Meta(MentorProfileForm.Meta):
        fields = ["headline", "bio", "expertise", "languages", "motivation"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6}), "motivation": forms.Textarea(attrs={"rows": 4})}
        labels = {"motivation": "Why do you want to mentor?"}


class ServiceForm(BoundedForm, forms.ModelForm):
    price = forms.DecimalField(
        label="Price (USD)",
        min_value=0,
        max_digits=7,
        decimal_places=2,
        help_text="0 makes it free: mentees book it without a card, and it shows as “Free”. Otherwise at least 1.00.",
    )

    class Meta:
        model = Service
        fields = [
            "title",
            "description",
            "format",
            "address",
            "access_notes",
            "duration_minutes",
            "is_active",
            "policy",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "cancellation_window_hours",
            "free_sessions_per_mentee",
        ]
        labels = {
            "duration_minutes": "Duration (minutes)",
            "is_active": "Open for booking",
            "buffer_before_minutes": "Buffer before (minutes)",
            "buffer_after_minutes": "Buffer after (minutes)",
            "cancellation_window_hours": "Cancellation window (hours)",
            "policy": "Terms for this session type",
            "free_sessions_per_mentee": "Free sessions per mentee",
        }
        help_texts = {
            "free_sessions_per_mentee": "For a free session type only: how many of these one mentee may book with "
            "you, e.g. 1 for one free intro call each. Cancelled and declined ones don't count. Empty: no limit.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "format": forms.RadioSelect,
            "access_notes": forms.Textarea(attrs={"rows": 2}),
            "policy": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(
            [
                "title",
                "description",
                "format",
                "address",
                "access_notes",
                "duration_minutes",
                "price",
                "free_sessions_per_mentee",
            ]
        )
        if self.instance.pk:
            self.fields["price"].initial = Decimal(self.instance.price_cents).scaleb(-2)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("price") is not None:
            self.instance.price_cents = int(cleaned["price"] * 100)
            try:  # price_cents is not a field of this form, so the model's own check would not say it here
                validate_price(self.instance.price_cents)
            except forms.ValidationError as error:
                self.add_error("price", error)
        return cleaned


class HoursField(forms.CharField):
    """Ranges typed as text; cleans to a list of (start, end) times."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        # An empty field means no hours that day, so say that rather than show example hours.
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "Day off", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        return hours.parse_ranges(super().clean(value))


class WeeklyHoursForm(BoundedForm, forms.Form):
    """The mentor's zone and weekly hours: one line of ranges per weekday, empty for a day off."""

    time_zone = TimeZoneField(help_text="Your hours are in this zone; mentees see them in theirs.")

    def __init__(self, *args, profile, **kwargs):
        super().__init__(*args, **kwargs)
        by_day: dict[int, list] = {}
        for rule in profile.availability.all():
            by_day.setdefault(rule.weekday, []).append((rule.start_time, rule.end_time))
        self.fields["time_zone"].initial = profile.user.time_zone
        self.fields["time_zone"].offer(profile.user.time_zone)
        for weekday in AvailabilityRule.Weekday:
            self.fields[f"day_{weekday.value}"] = HoursField(
                label=weekday.label, initial=hours.format_ranges(by_day.get(weekday.value, []))
            )

    def day_fields(self):
        return [self[f"day_{weekday.value}"] for weekday in AvailabilityRule.Weekday]

    def weekly_ranges(self) -> list[tuple[int, time, time]]:
        return [
            (weekday.value, start, end)
            for weekday in AvailabilityRule.Weekday
            for start, end in self.cleaned_data[f"day_{weekday.value}"]
        ]


class ScheduleRulesForm(BoundedForm, forms.ModelForm):
    class Meta:
        model = MentorProfile
        fields = [
            "buffer_before_minutes",
            "buffer_after_minutes",
            "minimum_notice_hours",
            "booking_horizon_days",
            "slot_interval_minutes",
            "max_sessions_per_day",
            "slot_display_zone",
            "cancellation_window_hours",
            "reschedule_limit",
            "no_show_policy",
            "lateness_policy",
        ]
        labels = {
            "buffer_before_minutes": "Buffer before sessions (minutes)",
            "buffer_after_minutes": "Buffer after sessions (minutes)",
            "minimum_notice_hours": "Minimum notice (hours)",
            "booking_horizon_days": "Booking horizon (days)",
            "slot_interval_minutes": "Sessions can start",
            "max_sessions_per_day": "Maximum sessions per day",
            "slot_display_zone": "Show times on my profile in",
            "cancellation_window_hours": "Cancellation window (hours)",
            "reschedule_limit": "Reschedules allowed per booking",
            "no_show_policy": "No-show policy",
            "lateness_policy": "Lateness policy",
        }
        widgets = {
            "no_show_policy": forms.Textarea(attrs={"rows": 2}),
            "lateness_policy": forms.Textarea(attrs={"rows": 2}),
        }


class DateOverrideForm(BoundedForm, forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    hours = HoursField(label="Hours that day", help_text="Leave empty for a day off.")

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < timezone.localdate():  # today in the mentor's zone (the page's current zone)
            raise forms.ValidationError("That date has passed.")
        return day


class VacationForm(BoundedForm, forms.Form):
    start_date = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label="Until (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, max_length=100, label="Note (only you see it)")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            raise forms.ValidationError("The vacation ends before it starts.")
        return cleaned


class MoveForm(BoundedForm, forms.Form):
    """Move a session type up or down the profile's list."""

    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class RemoveVacationForm(BoundedForm, forms.Form):
    remove = forms.IntegerField(min_value=1, max_value=2**31 - 1)


class ConnectCalendarForm(BoundedForm, forms.Form):
    name = forms.CharField(label="Name", max_length=80, initial="Work calendar", help_text="Only you see it.")
    address = forms.CharField(
        label="Calendar address (iCal)",
        max_length=2000,
        help_text=(
            "Google Calendar: Settings → your calendar → “Secret address in iCal format”. Outlook: Settings → "
            "Calendar → Shared calendars → Publish a calendar → ICS. Apple iCloud: share the calendar as a "
            "public calendar. The address starts with https:// or webcal://."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )


class RemoveCalendarForm(BoundedForm, forms.Form):
    remove = forms.IntegerField(min_value=1, max_value=2**31 - 1)


class CalDAVAccountForm(BoundedForm, forms.Form):
    server = forms.CharField(
        label="Server address",
        max_length=2000,
        help_text="iCloud: https://caldav.icloud.com · Fastmail: https://caldav.fastmail.com · Nextcloud: "
        "https://your-cloud/remote.php/dav",
        widget=forms.TextInput(attrs={"autocomplete": "url", "spellcheck": "false", "inputmode": "url"}),
    )
    username = forms.CharField(label="User name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        label="App password",
        max_length=500,
        help_text="Make one for us in your account's security settings; you can revoke it there at any time.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class CalDAVPickForm(BoundedForm, forms.Form):
    busy = forms.MultipleChoiceField(
        label="Count as busy", required=False, widget=forms.CheckboxSelectMultiple, help_text="Their events hide slots."
    )
    write_to = forms.ChoiceField(label="Write my confirmed sessions to", required=False)

    def __init__(self, *args, found: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["busy"].choices = found
        self.fields["write_to"].choices = [("", "Nowhere"), *found]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("busy") and not cleaned.get("write_to"):
            raise forms.ValidationError("Pick at least one calendar to count as busy or to write sessions to.")
        return cleaned
