"""Bookings' part of a person's data rights (mentorship.data_rights): their bookings and reviews in the copy;
before deletion their open bookings end by the normal rules; then what they wrote about themselves goes."""

from django.db.models import Q
from django.utils import timezone

from mentorship import data_rights

from . import packages, policies, services
from .models import Booking, PackagePurchase, Review, SupportTicket


@data_rights.exports("bookings")
def _bookings(user) -> list[dict]:
    # A mentor's copy holds what they were shown: never a mentee's checkout that was not completed.
    checkouts = (Booking.Status.HELD, Booking.Status.ABANDONED)
    mine = Booking.objects.filter(Q(mentee=user) | (Q(mentor__user=user) & ~Q(status__in=checkouts)))
    mine = mine.exclude(status=Booking.Status.HELD)
    return [
        {
            "id": booking.pk,
            "role": "mentee" if booking.mentee_id == user.pk else "mentor",
            "mentor": booking.mentor.user.display_name,
            "mentee": booking.mentee.display_name,
            "session_type": booking.service.title,
            "start": data_rights.iso(booking.start),
            "end": data_rights.iso(booking.end),
            "status": booking.status,
            "price_cents": booking.price_cents,
            "currency": booking.currency,
            "message": booking.message,
            "accessibility_needs": booking.accessibility_needs,
            "cancellation_summary": booking.cancellation_summary,
            "history": [
                {
                    "at": data_rights.iso(event.created_at),
                    "from": event.from_status,
                    "to": event.to_status,
                    "note": event.note,
                }
                for event in booking.events.all()
            ],
        }
        for booking in mine.select_related("mentor__user", "mentee", "service").prefetch_related("events")
    ]


@data_rights.exports("support_and_packages")
def _tickets_and_packages(user) -> dict:
    return {
        "support_tickets": [
            {
                "booking": ticket.booking_id,
                "kind": ticket.kind,
                "note": ticket.note,
                "status": ticket.status,
                "resolution": ticket.resolution,
                "opened_at": data_rights.iso(ticket.created_at),
            }
            for ticket in SupportTicket.objects.filter(opened_by=user)
        ],
        "packages_bought": [
            {
                "mentor": purchase.mentor.user.display_name,
                "sessions": purchase.sessions,
                "price_cents": purchase.price_cents,
                "currency": purchase.currency,
                "status": purchase.status,
                "paid_at": data_rights.iso(purchase.paid_at),
                "expires_at": data_rights.iso(purchase.expires_at),
            }
            for purchase in PackagePurchase.objects.filter(mentee=user).select_related("mentor__user")
        ],
    }


@data_rights.exports("reviews")
def _reviews(user) -> dict:
    def described(review: Review) -> dict:
        return {
            "booking": review.booking_id,
            "rating": review.rating,
            "text": review.text,
            "written_at": data_rights.iso(review.created_at),
            "reply": review.reply,
            "hidden": review.hidden_at is not None,
        }

    return {
        "given": [described(review) for review in Review.objects.filter(mentee=user)],
        "received": [described(review) for review in Review.objects.filter(mentor__user=user)],
    }


@data_rights.refuses
def _packages_still_owed(user) -> str:
    """A mentor who sold packages still running owes those sessions: deleting would take them from the mentees."""
    running = PackagePurchase.objects.filter(
        mentor__user=user,
        status=PackagePurchase.Status.PAID,
        settled_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).count()
    if not running:
        return ""
    return (
        f"You have sold {running} package(s) that are still running, and their mentees are owed the sessions "
        "left. Write to us and we will refund them, or delete your account once they are used or expired."
    )


@data_rights.foretells
def _credits_forfeited(user) -> list[str]:
    live = PackagePurchase.objects.filter(
        mentee=user, status=PackagePurchase.Status.PAID, expires_at__gt=timezone.now()
    ).prefetch_related("bookings")
    left = sum(packages.credits_left(purchase) for purchase in live)
    return [f"Your {left} unused package credit(s) are given up, and not refunded."] if left else []


@data_rights.closes
def _end_open_bookings(user) -> None:
    services.bookings_close_for_leaving(user)
    PackagePurchase.objects.filter(mentee=user, status=PackagePurchase.Status.AWAITING_PAYMENT).update(
        status=PackagePurchase.Status.ABANDONED
    )


@data_rights.erases
def _erase_what_they_wrote(user) -> None:
    """What the mentee wrote about themselves on their requests goes; the bookings stay for the books and for
    the mentor's history. Their reviews keep the stars (the mentor's average stands) without the words."""
    Booking.objects.filter(mentee=user).update(message="", accessibility_needs="")
    Review.objects.filter(mentee=user).update(text="")
    Review.objects.filter(mentor__user=user).update(reply="")  # a mentor's answers are their words too


@data_rights.foretells
def _bookings_that_would_end(user) -> list[str]:
    now = timezone.now()
    lines = []
    for booking in services.bookings_ended_by_leaving(user, now=now):
        when = f"{timezone.localtime(booking.start):%a %-d %b %Y, %H:%M}"
        if booking.mentee_id == user.pk:
            terms = policies.cancellation_terms(booking, by="mentee", now=now)
            lines.append(
                f"Your session with {booking.mentor.user.display_name} on {when} is cancelled. {terms.summary}"
            )
        else:
            verb = "declined" if booking.status == Booking.Status.PENDING else "cancelled"
            lines.append(
                f"The session {booking.mentee.display_name} booked with you on {when} is {verb}; "
                "they get their money (or package credit) back in full."
            )
    return lines
