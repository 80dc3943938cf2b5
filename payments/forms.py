"""Forms of the payments pages: what a mentor may type as a refund."""

from decimal import Decimal

from django import forms

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
