"""A small, lived-in site for the page-walking browser tests: an approved mentor with sessions in every state, a
long meeting link, payouts and a package; a mentee with bookings, a receipt, a review and messages. Everything is
made through the real services (and the local Stripe server), as a person's clicks would make it."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from bookings import packages, reviews, selectors
from bookings import services as booking_services
from bookings.models import Booking, PackagePurchase
from mentorship.models import MentorProfile, User
from notifications import conversations
from notifications.models import Conversation
from payments import payouts
from payments.models import Payment

from .factories import UserFactory, bookable_mentor
from .test_payments import pay
from .test_payouts import completed_session, onboard

LONG_LINK = "https://meet.example.com/j/" + "0123456789abcdef" * 8 + "?room=" + "Zx9" * 30
LONG_WORD = "Supercalifragilisticexpialidocious-" * 4


@dataclass
class Site:
    mentor: MentorProfile
    mentee: User
    pending: Booking
    confirmed: Booking
    completed: Booking
    declined: Booking
    held: Booking
    payment: Payment
    conversation: Conversation
    package_id: int
    purchase: PackagePurchase


def build_site(stripe_server, settings) -> Site:
    settings.PLATFORM_FEE_PERCENT = 15
    settings.PAYOUT_MINIMUM_CENTS = 1000
    mentor = bookable_mentor(
        user__display_name="Maya Mentor",
        user__email="maya.mentor.with.a.rather.long.address@example.com",
        headline=f"Staff engineer who loves teaching {LONG_WORD}"[:120],  # the column's cap (PostgreSQL holds it)
        bio=f"I help engineers grow. My notes: {LONG_LINK}",
    )
    onboard(stripe_server, mentor)
    completed_session(mentor, stripe_server)
    completed_session(mentor, stripe_server, offset=1)
    payouts.payouts_run()  # a payout in the history
    completed_session(mentor, stripe_server, offset=2)  # and a balance again

    mentee = UserFactory(display_name="Sam Mentee", email="sam.mentee@example.com")
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    starts = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=9))

    def request(start, message="") -> Booking:
        booking = booking_services.booking_hold(mentee=mentee, service=intro, start=start, message=message)
        pay(stripe_server, booking)
        return booking

    pending = request(starts[0], message=f"Could we look at my CV? It is here: {LONG_LINK}")
    confirmed = request(starts[2])
    booking_services.booking_confirm(confirmed.pk, actor=mentor.user)
    booking_services.booking_set_links(
        confirmed.pk, actor=mentor.user, meeting_link=LONG_LINK, availability_link=LONG_LINK + "&pick=1"
    )
    completed = request(starts[4])
    booking_services.booking_confirm(completed.pk, actor=mentor.user)
    booking_services.booking_complete(completed.pk, actor=mentor.user, now=completed.end)
    reviews.review_save(completed.pk, mentee=mentee, rating=5, text=f"Sharp and kind. {LONG_WORD}")
    declined = request(starts[6])
    booking_services.booking_decline(declined.pk, actor=mentor.user, reason=f"Away that week {LONG_WORD}")
    held = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[8])  # at checkout now

    message = conversations.message_send(
        sender=mentee, mentee=mentee, mentor=mentor, body=f"Hello! Here is my portfolio: {LONG_LINK}"
    )
    conversations.message_send(sender=mentor.user, mentee=mentee, mentor=mentor, body="Looks great, see you soon.")
    package = packages.package_save(mentor, service=intro, sessions=5, price_cents=18000, valid_days=90)
    purchase = packages.purchase_start(mentee=mentee, package_id=package.pk)
    for booking in (pending, confirmed, completed, declined, held):
        booking.refresh_from_db()
    return Site(
        mentor=mentor,
        mentee=mentee,
        pending=pending,
        confirmed=confirmed,
        completed=completed,
        declined=declined,
        held=held,
        payment=Payment.objects.filter(booking=completed, status="succeeded").get(),
        conversation=message.conversation,
        package_id=package.pk,
        purchase=purchase,
    )
