"""Calendar downloads for a booking's parties."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from bookings import selectors

from . import calendar


@login_required
def booking_ics(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None:
        raise Http404("No such booking.")
    body = calendar.booking_ics(booking, for_mentor=booking.mentor.user_id == request.user.pk)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="session-{booking.pk}.ics"'
    return response
