"""Forms for accounts and the mentor side. They validate; services write."""

import json
from datetime import time
from decimal import Decimal

import pytz
from django import forms

from .models import AvailabilityRule, MentorProfile, Service, validate_time_zone
from .zones import BROWSER_ALIASES, canonical_zone

TIME_ZONE_CHOICES = [(zone, zone.replace("_", " ")) for zone in pytz.common_timezones]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("help_text", "We show every time in this zone. We picked the one your browser uses.")
        super().__init__(choices=TIME_ZONE_CHOICES, validators=[validate_time_zone], **kwargs)

    def to_python(self, value):
        return canonical_zone(super().to_python(value))

    def valid_value(self, value):
        # Any IANA zone is fine, even one outside the common list; the validator checks it exists.
        return True


class SignupForm(forms.Form):
    """Extra sign-up fields for allauth: a name and the browser's time zone."""

    display_name = forms.CharField(label="Your name", max_length=80)
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


class AccountSettingsForm(forms.Form):
    display_name = forms.CharField(label="Your name", max_length=80)
    time_zone = TimeZoneField(help_text="We show every time in this zone.")


class MentorProfileForm(forms.ModelForm):
    class Meta:
        model = MentorProfile
        fields = ["headline", "bio", "expertise"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}


class MentorApplicationForm(MentorProfileForm):
    class Meta(MentorProfileForm.Meta):
        fields = ["headline", "bio", "expertise", "motivation"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6}), "motivation": forms.Textarea(attrs={"rows": 4})}
        labels = {"motivation": "Why do you want to mentor?"}


class ServiceForm(forms.ModelForm):
    price = forms.DecimalField(label="Price (USD)", min_value=1, max_digits=7, decimal_places=2)

    class Meta:
        model = Service
        fields = ["title", "description", "duration_minutes", "is_active"]
        labels = {"duration_minutes": "Duration (minutes)", "is_active": "Open for booking"}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["title", "description", "duration_minutes", "price", "is_active"])
        if self.instance.pk:
            self.fields["price"].initial = Decimal(self.instance.price_cents).scaleb(-2)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("price") is not None:
            self.instance.price_cents = int(cleaned["price"] * 100)
        return cleaned


class WeekdayHoursForm(forms.Form):
    """One weekday of the weekly availability: open or not, from and until."""

    available = forms.BooleanField(required=False)
    start_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def __init__(self, *args, weekday: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday = weekday
        self.weekday_name = AvailabilityRule.Weekday(weekday).label
        self.fields["available"].label = f"Available on {self.weekday_name}"
        self.fields["start_time"].label = f"{self.weekday_name} from"
        self.fields["end_time"].label = f"{self.weekday_name} until"
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("available"):
            start, end = cleaned.get("start_time"), cleaned.get("end_time")
            if start is None or end is None:
                raise forms.ValidationError(f"Give a start and an end time for {self.weekday_name}.")
            if end <= start:
                raise forms.ValidationError(f"On {self.weekday_name} the end time must be after the start time.")
        return cleaned


def weekly_hours_forms(rules, data=None) -> list[WeekdayHoursForm]:
    """One form per weekday, filled from the mentor's current rules (the first range of each day)."""
    by_day = {}
    for rule in rules:
        by_day.setdefault(rule.weekday, rule)
    forms_ = []
    for weekday in range(7):
        rule = by_day.get(weekday)
        initial = (
            {"available": True, "start_time": rule.start_time, "end_time": rule.end_time}
            if rule
            else {"available": False, "start_time": time(9), "end_time": time(17)}
        )
        forms_.append(WeekdayHoursForm(data, weekday=weekday, initial=initial, prefix=f"day{weekday}"))
    return forms_
