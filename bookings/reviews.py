"""Reviews of completed sessions: the writes.

The mentee reviews a completed booking once (1–5 stars and words) and may edit it for
Review.EDITABLE_FOR; the mentor may answer publicly once; staff hide a review with a
reason (it stays stored, and stops counting in the average).
"""

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from mentorship.directory_version import directory_changed
from mentorship.models import MentorProfile

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
                refresh_rating(review.mentor_id)
                directory_changed()  # the rating on the mentor's card
                return review
            except IntegrityError:  # the same form sent twice at once
                review = Review.objects.get(booking=booking)
        if now > review.editable_until:
            raise BookingError("Reviews can be changed for 14 days; this one can no longer be edited.")
        review.rating, review.text = rating, text.strip()
        review.save(update_fields=["rating", "text", "updated_at"])
        refresh_rating(review.mentor_id)
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
    _rating_changed(review_id)  # a hidden review stops counting in the average
    return bool(hidden)


def review_unhide(review_id: int) -> bool:
    shown = Review.objects.filter(pk=review_id, hidden_at__isnull=False).update(hidden_at=None, hidden_reason="")
    _rating_changed(review_id)
    return bool(shown)


def _rating_changed(review_id: int) -> None:
    mentor_id = Review.objects.filter(pk=review_id).values_list("mentor_id", flat=True).first()
    if mentor_id is not None:
        refresh_rating(mentor_id)
    directory_changed()


RATING_PLACES = Decimal("0.000001")


def refresh_rating(mentor_id: int) -> None:
    """Store the mentor's average and number of visible reviews, which the directory filters and sorts on.

    The average is cut (not rounded) to six places: "4.5 stars and up" then holds exactly when the true
    average does, and two averages over fewer than a thousand reviews each keep their order.
    """
    summary = Review.objects.filter(mentor_id=mentor_id, hidden_at__isnull=True).aggregate(
        total=Sum("rating"), count=Count("pk")
    )
    average = None
    if summary["count"]:
        average = (Decimal(summary["total"]) / summary["count"]).quantize(RATING_PLACES, rounding=ROUND_DOWN)
    MentorProfile.objects.filter(pk=mentor_id).update(rating_average=average, rating_count=summary["count"])
