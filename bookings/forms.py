from datetime import UTC, datetime

from django import forms

from mentorship.models import Service


class BookSessionForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), widget=forms.HiddenInput)
    start = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Pick a time first."})
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


class DeclineForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason (optional, shown to the mentee)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinksForm(forms.Form):
    meeting_link = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Meeting link",
        help_text="e.g. a Google Meet or Zoom link for the call.",
    )
    availability_link = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Availability link",
        help_text="e.g. a Google Calendar appointment schedule.",
    )


class ReviewForm(forms.Form):
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


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label="Your public reply",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown under the review on your profile. You can reply once.",
        error_messages={"required": "Write your reply first."},
    )
