"""Bookings' part of a person's data rights (mentorship.data_rights): their bookings and reviews in the copy;
before deletion their open bookings end by the normal rules; then what they wrote about themselves goes."""

from django.db.models import Q
from django.utils import timezone

from mentorship import data_rights

from . import policies, services
from .models import Booking, Review


@data_rights.exports("bookings")
def _bookings(user) -> list[dict]:
    mine = Booking.objects.filter(Q(mentee=user) | Q(mentor__user=user)).exclude(status=Booking.Status.HELD)
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


@data_rights.closes
def _end_open_bookings(user) -> None:
    services.bookings_close_for_leaving(user)


@data_rights.erases
def _erase_what_they_wrote(user) -> None:
    """What the mentee wrote about themselves on their requests goes; the bookings stay for the books and for
    the mentor's history. Their reviews keep the stars (the mentor's average stands) without the words."""
    Booking.objects.filter(mentee=user).update(message="", accessibility_needs="")
    Review.objects.filter(mentee=user).update(text="")


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
