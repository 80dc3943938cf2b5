"""The mentor's "Give a refund" form takes only an amount of money it can refund, and says what is wrong otherwise."""

import pytest
from django.urls import reverse

from bookings import services as booking_services
from payments.models import Refund

from .test_payments import held_and_paid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]

NOT_AN_AMOUNT = "Enter the amount to refund in dollars and cents, like 12.50."


@pytest.fixture
def confirmed_booking(stripe_server):
    booking = held_and_paid(stripe_server)
    booking_services.booking_confirm(booking.pk, actor=booking.mentor.user)
    return booking


@pytest.mark.parametrize(
    "amount, message",
    [
        ("inf", NOT_AN_AMOUNT),
        ("-Infinity", NOT_AN_AMOUNT),
        ("nan", NOT_AN_AMOUNT),
        ("1e400", "That is more than a session costs."),
        ("123456789", "That is more than a session costs."),
        ("-1", "Enter at least 0.01."),
        ("0", "Enter at least 0.01."),
        ("0.001", "Use at most two digits after the point, like 12.50."),
        ("12.345", "Use at most two digits after the point, like 12.50."),
        ("1" * 1_000_000, NOT_AN_AMOUNT),
        ("12\x00", NOT_AN_AMOUNT),
        ("twelve", NOT_AN_AMOUNT),
        ("", "Enter the amount to refund."),
    ],
    ids=["inf", "-inf", "nan", "1e400", "big", "negative", "zero", "0.001", "12.345", "1MB", "NUL", "words", "empty"],
)
def test_an_amount_that_is_no_refund_is_refused_with_a_clear_message(client, confirmed_booking, amount, message):
    client.force_login(confirmed_booking.mentor.user)
    client.raise_request_exception = False
    response = client.post(reverse("grant_refund", args=[confirmed_booking.pk]), {"amount": amount}, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Refund.objects.exists()


def test_a_well_formed_amount_is_refunded_to_the_cent(client, confirmed_booking):
    client.force_login(confirmed_booking.mentor.user)
    url = reverse("grant_refund", args=[confirmed_booking.pk])
    response = client.post(url, {"amount": " 12.5 "}, follow=True)
    assert "Refunded $12.50" in response.content.decode()
    response = client.post(url, {"amount": "0.29"}, follow=True)
    assert "Refunded $0.29" in response.content.decode()
    response = client.post(url, {"amount": "27.22"}, follow=True)  # one cent more than is left
    assert "You can refund between $0.01 and $27.21." in response.content.decode()
    assert [refund.amount_cents for refund in Refund.objects.order_by("pk")] == [1250, 29]
