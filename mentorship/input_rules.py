"""What any text typed into our forms may hold: a length cap on every field, and no control characters.

Every form of ours mixes in `BoundedForm`, so the rule lives in one place: a text field that declares no cap
(one a library adds, like allauth's on our sign-up form) gets `DEFAULT_MAX_LENGTH`, and control characters (escape
sequences, bells, NUL, bidirectional overrides that disguise text) are refused with a message the person can act
on. Line breaks and tabs are fine in multi-line text, never in a one-line field.
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

DEFAULT_MAX_LENGTH = 2000
ONE_LINE = "Write this on one line."
MULTILINE_ALLOWED = {"\n", "\r", "\t"}
LINE_SEPARATORS = {"\u2028", "\u2029"}  # Unicode's own line and paragraph breaks: fine in text, not in one line
# Format characters that reorder or hide text ("Cf" also holds the zero-width joiner emoji need, so only these).
DISGUISING = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def control_characters(value: str, *, multiline: bool) -> list[str]:
    allowed = MULTILINE_ALLOWED if multiline else set()
    refused = DISGUISING if multiline else DISGUISING | LINE_SEPARATORS
    return sorted(
        {char for char in value if char not in allowed and (unicodedata.category(char) == "Cc" or char in refused)}
    )


class RefuseControlCharacters:
    def __init__(self, *, multiline: bool):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if not isinstance(value, str) or not (found := control_characters(value, multiline=self.multiline)):
            return
        if not self.multiline and any(char.isspace() for char in found):  # line breaks, tabs, vertical tabs
            raise ValidationError(ONE_LINE, code="line_break")
        raise ValidationError(
            "Remove the invisible control characters (pasted from a terminal or another app?).", code="control"
        )

    def __eq__(self, other):
        return isinstance(other, RefuseControlCharacters) and other.multiline == self.multiline


class BoundedForm:
    """Mixed into every form: each text field has a cap and refuses control characters."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.CharField):
                continue
            if field.max_length is None:
                field.max_length = DEFAULT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(DEFAULT_MAX_LENGTH))
            multiline = isinstance(field.widget, forms.Textarea)
            field.validators.append(RefuseControlCharacters(multiline=multiline))
