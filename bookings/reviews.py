"""Reviews of completed sessions: the writes.

The mentee reviews a completed booking once (1–5 stars and words) and may edit it for
Review.EDITABLE_FOR; the mentor may answer publicly once; staff hide a review with a
reason (it stays stored, and stops counting in the average).
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from mentorship.directory_version import directory_changed

from .models import Booking, Review
from .services import BookingError


def review_save(booking_id: int, *, mentee, rating: int, text: str, now: datetime | None = None) -> Review:
    now = now or timezone.now()
    if rating not in range(1, 6):
        raise BookingError("Choose from 1 to 5 stars.")
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        if booking.mentee_id != mentee.pk:
            raise BookingError("Only the mentee of this session can review it.")
        if booking.status != Booking.Status.COMPLETED:
            raise BookingError("You can review a session once it is complete.")
        review = Review.objects.filter(booking=booking).first()
        if review is None:
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        booking=booking, mentor_id=booking.mentor_id, mentee=mentee, rating=rating, text=text.strip()
                    )
                directory_changed()  # the rating on the mentor's card
                return review
            except IntegrityError:  # the same form sent twice at once
                review = Review.objects.get(booking=booking)
        if now > review.editable_until:
            raise BookingError("Reviews can be changed for 14 days; this one can no longer be edited.")
        review.rating, review.text = rating, text.strip()
        review.save(update_fields=["rating", "text", "updated_at"])
        directory_changed()
        return review


def review_reply(review_id: int, *, mentor_user, text: str) -> Review:
    text = text.strip()
    if not text:
        raise BookingError("Write your reply first.")
    review = Review.objects.select_related("mentor").filter(pk=review_id).first()
    if review is None or review.mentor.user_id != mentor_user.pk:
        raise BookingError("Only the mentor who was reviewed can reply.")
    if not Review.objects.filter(pk=review_id, reply="").update(reply=text, replied_at=timezone.now()):
        raise BookingError("You have already replied to this review.")
    review.refresh_from_db()
    return review


def review_hide(review_id: int, *, reason: str) -> bool:
    """Staff take a review off the profile, saying why. False if it was already hidden."""
    if not reason.strip():
        raise BookingError("Say why the review is hidden.")
    hidden = Review.objects.filter(pk=review_id, hidden_at__isnull=True).update(
        hidden_at=timezone.now(), hidden_reason=reason.strip()
    )
    directory_changed()  # a hidden review stops counting in the average
    return bool(hidden)


def review_unhide(review_id: int) -> bool:
    shown = Review.objects.filter(pk=review_id, hidden_at__isnull=False).update(hidden_at=None, hidden_reason="")
    directory_changed()
    return bool(shown)
