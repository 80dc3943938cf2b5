from datetime import UTC, datetime

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme

from mentorship.input_rules import BoundedForm
from mentorship.models import Service

from .models import LINK_MAX_LENGTH, SUPPORT_NOTE_MAX_LENGTH


class BookSessionForm(BoundedForm, forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), widget=forms.HiddenInput)
    start = forms.CharField(max_length=64, widget=forms.HiddenInput, error_messages={"required": "Pick a time first."})
    message = forms.CharField(
        required=False,
        max_length=2000,
        label="Message to the mentor",
        help_text="Optional, but it helps: what do you want to work on?",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    accessibility_needs = forms.CharField(
        required=False,
        max_length=1000,
        label="Accessibility needs (optional)",
        help_text="Captions, a language, pacing, step-free access: anything your mentor should plan for.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, mentor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(mentor=mentor, is_active=True).select_related(
            "mentor__user"
        )
        self.fields["service"].error_messages["invalid_choice"] = "That session type is not available."

    def clean_start(self) -> datetime:
        return parse_start(self.cleaned_data["start"])

    def clean_message(self) -> str:
        from . import screening  # the same rule as for messages: no card numbers or passwords

        message = self.cleaned_data["message"]
        if reason := screening.refusal(message):
            raise forms.ValidationError(reason)
        return message


def parse_start(value: str) -> datetime:
    """A start time as the calendar sends it (ISO 8601 with an offset), in UTC."""
    try:
        start = datetime.fromisoformat(value)
        if start.tzinfo is None or not 2000 <= start.year <= 2200:
            raise ValueError("not a time we offer")
        return start.astimezone(UTC)
    except (ValueError, OverflowError):
        raise forms.ValidationError("Pick a time from the calendar.") from None


class StartForm(BoundedForm, forms.Form):
    """Only a start time, for a booking whose session type is already fixed (a new time after the mentor
    cancelled: the type may have been closed to new bookings since)."""

    start = forms.CharField(max_length=64, widget=forms.HiddenInput, error_messages={"required": "Pick a time first."})

    def clean_start(self) -> datetime:
        return parse_start(self.cleaned_data["start"])


class DeclineForm(BoundedForm, forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason (optional, shown to the mentee)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinksForm(BoundedForm, forms.Form):
    meeting_link = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=LINK_MAX_LENGTH,
        label="Meeting link",
        help_text="e.g. a Google Meet or Zoom link for the call.",
    )
    availability_link = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=LINK_MAX_LENGTH,
        label="Availability link",
        help_text="e.g. a Google Calendar appointment schedule.",
    )


class ReviewForm(BoundedForm, forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        coerce=int,
        choices=[
            (5, "5 stars: excellent"),
            (4, "4 stars: good"),
            (3, "3 stars: okay"),
            (2, "2 stars: poor"),
            (1, "1 star: bad"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars."},
    )
    text = forms.CharField(
        label="Your review",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What went well, what could be better? Shown on the mentor's profile with your name.",
    )


class ReplyForm(BoundedForm, forms.Form):
    reply = forms.CharField(
        label="Your public reply",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown under the review on your profile. You can reply once.",
        error_messages={"required": "Write your reply first."},
    )


# Ids typed into a form fit a database integer; anything else is no id of ours.
LARGEST_ID = 2**31 - 1


def _id_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(min_value=1, max_value=LARGEST_ID, **kwargs)


class CancelForm(BoundedForm, forms.Form):
    reason = forms.CharField(required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class SupportNoteForm(BoundedForm, forms.Form):
    """What happened, for our support team (a no-show report or a dispute)."""

    note = forms.CharField(required=False, max_length=SUPPORT_NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class StartsField(forms.MultipleChoiceField):
    """Times ticked from a list: each one a start time as the calendar sends it."""

    MAX_TIMES = 40  # the page offers at most 40

    def to_python(self, value):
        values = super().to_python(value)
        if len(values) > self.MAX_TIMES:
            raise forms.ValidationError("Pick fewer times.")
        return [parse_start(value) for value in values]

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class SuggestTimesForm(BoundedForm, forms.Form):
    start = StartsField(required=False)
    note = forms.CharField(required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class AcceptSuggestionForm(BoundedForm, forms.Form):
    suggestion = _id_field()


class SectionPagesForm(BoundedForm, forms.Form):
    """`?<section>_page=N` for each section of a bookings list (My Bookings, Bookings)."""

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        for name in sections:
            self.fields[f"{name}_page"] = forms.IntegerField(required=False, min_value=-(2**31), max_value=2**31)


class CalendarQuery(BoundedForm, forms.Form):
    """The query string of a mentor's calendar: which session type, which day (or week, from older links and a
    booking that failed), which zone."""

    service = _id_field(required=False)
    day = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    week = forms.IntegerField(required=False, min_value=0, max_value=52)
    tz = forms.CharField(required=False, max_length=64)

    def value(self, name: str):
        """The cleaned value, or None where the parameter was missing or wrong (the page shows its default)."""
        if not self.is_valid():
            return self.cleaned_data.get(name) if name not in self.errors else None
        return self.cleaned_data.get(name)


class TimesQuery(BoundedForm, forms.Form):
    """The calendar script's question: the free times of one session type on one day, in one zone."""

    service = _id_field()
    day = forms.DateField(input_formats=["%Y-%m-%d"])
    tz = forms.CharField(required=False, max_length=64)


class NextForm(BoundedForm, forms.Form):
    """Where to go after a form: a page of this site, no longer than any of our addresses."""

    next = forms.CharField(required=False, max_length=2000)


def safe_next(request, name: str = "next") -> str:
    """The page to go back to after a POST, if it is one of ours; empty otherwise."""
    form = NextForm({"next": request.POST.get(name, "")})
    target = form.cleaned_data["next"] if form.is_valid() else ""
    # A path of ours only: "abc" would pass the host check, and redirect() would take it for a view's name.
    ours = target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ours else ""
