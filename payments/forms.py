"""Forms of the payments pages: the card a mentee pays with, and what a mentor may type as a refund."""

from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator

from mentorship.input_rules import BoundedForm

NOT_AN_AMOUNT = "Enter the amount to refund in dollars and cents, like 12.50."


class AmountField(forms.DecimalField):
    """Money typed by a person: a finite amount with at most two decimals, never a float."""

    MAX_LENGTH = 20  # "999999.99" with room for spaces; longer input is no amount, whatever it says

    def to_python(self, value):
        if value is not None and len(str(value)) > self.MAX_LENGTH:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)  # inf and nan parse, and DecimalField.validate refuses them


class RefundGrantForm(BoundedForm, forms.Form):
    amount = AmountField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Enter the amount to refund.",
            "invalid": NOT_AN_AMOUNT,
            "min_value": "Enter at least 0.01.",
            "max_digits": "That is more than a session costs.",
            "max_whole_digits": "That is more than a session costs.",
            "max_decimal_places": "Use at most two digits after the point, like 12.50.",
        },
    )

    @property
    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)  # exact: at most two decimals

    def error_text(self) -> str:
        return " ".join(self.errors["amount"])


ENTER_CARD = "Enter your card details, then press Pay."


class PayForm(BoundedForm, forms.Form):
    """The card to charge: the one the page just set up with Stripe.js, or the mentee's saved card."""

    payment_method = forms.CharField(
        required=False,
        max_length=100,  # Stripe's ids are about 30 characters
        validators=[RegexValidator(r"\Apm_[A-Za-z0-9_]+\Z", ENTER_CARD)],
        error_messages={"max_length": ENTER_CARD, "null_characters_not_allowed": ENTER_CARD},
    )
    use_saved_card = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("use_saved_card") and not cleaned.get("payment_method"):
            raise forms.ValidationError(ENTER_CARD)
        return cleaned
