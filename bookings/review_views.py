"""Reviewing a completed session, and the mentor's reply."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import reviews, selectors
from .forms import ReplyForm, ReviewForm
from .models import Review
from .services import BookingError


@login_required
def review(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None or booking.mentee_id != request.user.pk:
        raise Http404("No such booking.")
    existing = Review.objects.filter(booking=booking).first()
    initial = {"rating": existing.rating, "text": existing.text} if existing else {}
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reviews.review_save(booking.pk, mentee=request.user, **form.cleaned_data)
        except BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Thank you! Your review is on the mentor's profile.")
            return redirect("booking_detail", booking_id=booking.pk)
    return render(
        request,
        "bookings/review.html",
        {"booking": booking, "form": form, "review": existing},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def reply(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    found = Review.objects.filter(booking=booking).first() if booking else None
    if found is None:
        raise Http404("No such review.")
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reply"][0])
    else:
        try:
            reviews.review_reply(found.pk, mentor_user=request.user, text=form.cleaned_data["reply"])
        except BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Your reply is on your profile, under the review.")
    return redirect("booking_detail", booking_id=booking.pk)
