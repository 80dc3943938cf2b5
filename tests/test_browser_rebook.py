"""When the mentor cancels, in Chromium at phone and desktop width: the mentor sees that the mentee will choose,
the mentee gets both choices on the session page, picks a new time and is booked again without paying again;
or takes the refund."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment, Refund

from .factories import bookable_mentor
from .test_browser_flow import log_in, shot
from .test_lifecycle import booked

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1200, "height": 900}}


def cancelled_by_the_mentor(new_page, stripe_server, size):
    """Maya's confirmed, paid session with Sam, which Maya cancels on its page."""
    booking = booked(bookable_mentor(user__display_name="Maya Mentor"), stripe_server)
    booking.mentee.display_name = "Sam Student"
    booking.mentee.save()
    mentor_cancels(new_page, booking, size)
    return booking


def mentor_cancels(new_page, booking, size):
    page = new_page("America/New_York")
    page.set_viewport_size(SIZES[size])
    log_in(page, booking.mentor.user.email)
    page.goto(f"/bookings/{booking.pk}/")
    page.get_by_role("link", name="Cancel session").click()
    expect(page.get_by_role("heading", name="Sam Student chooses what happens next")).to_be_visible()
    page.get_by_label("Message to Sam Student").fill("I'm ill, sorry.")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("region", name="You cancelled this session")).to_contain_text(
        "Sam Student can pick another of your free times until"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_mentee_picks_a_new_time_without_paying_again(new_page, stripe_server, size):
    booking = cancelled_by_the_mentor(new_page, stripe_server, size)

    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    log_in(page, booking.mentee.email)
    page.goto("/bookings/")
    page.get_by_role("link", name="30-min intro").first.click()
    banner = page.get_by_role("region", name="Maya Mentor had to cancel: pick a new time or get a full refund")
    expect(banner).to_contain_text("Pick a new time without paying again, or get a full refund.")
    expect(banner.get_by_role("button", name="Get a full refund")).to_be_visible()
    shot(page, f"rebook-choice-{size}")
    banner.get_by_role("link", name="Pick a new time").click()

    expect(page.get_by_role("heading", name="Pick a new time")).to_be_visible()
    slot = page.locator(".slot").nth(2)
    label = slot.get_attribute("aria-label")
    slot.click()
    shot(page, f"rebook-pick-{size}")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("status").first).to_contain_text("Booked again at the new time, without paying again.")
    expect(page.locator(".badge")).to_have_text("Confirmed")
    expect(page.get_by_role("definition").first).to_contain_text(label.rsplit(" ", 1)[1])
    booking.refresh_from_db()
    assert booking.status == "confirmed" and booking.reschedules_used == 0
    assert Payment.objects.filter(booking=booking).count() == 1 and not Refund.objects.exists()


@pytest.mark.parametrize("size", SIZES)
def test_the_mentee_takes_the_refund(new_page, stripe_server, size):
    booking = cancelled_by_the_mentor(new_page, stripe_server, size)

    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    log_in(page, booking.mentee.email)
    page.goto(f"/bookings/{booking.pk}/")
    page.get_by_role("button", name="Get a full refund").click()
    expect(page.get_by_role("status").first).to_contain_text("you get a full refund of $40.00")
    expect(page.get_by_role("region", name="Maya Mentor cancelled this session")).to_contain_text(
        "Refunded $40.00 to Visa card ending 4242"
    )
    expect(page.get_by_role("link", name="Pick a new time")).to_have_count(0)
    shot(page, f"rebook-refunded-{size}")
    assert Refund.objects.get().amount_cents == 4000
