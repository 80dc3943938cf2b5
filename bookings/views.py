"""Booking pages: a mentor's profile with free times, My Bookings, the mentor's Bookings."""

from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mentorship.forms import TIME_ZONE_CHOICES
from mentorship.models import MentorProfile
from mentorship.rate_limits import rate_limited
from mentorship.views import approved_mentor_required
from mentorship.zones import canonical_zone

from . import policies, selectors, services
from .forms import (
    AcceptSuggestionForm,
    BookSessionForm,
    CalendarQuery,
    CancelForm,
    DeclineForm,
    LinksForm,
    ReplyForm,
    SuggestTimesForm,
    SupportNoteForm,
    safe_next,
)
from .models import Booking, Review
from .slots import group_by_local_day


def party_only(view):
    """A booking's action answers "not found" to anyone who is not its mentee, its mentor or staff.

    Its own checks still decide what each party may do ("Only the mentor of this booking can do that."); a
    stranger learns nothing, not even that the booking exists.
    """

    @wraps(view)
    def wrapper(request, booking_id: int, *args, **kwargs):
        if selectors.booking_for_party(request.user, booking_id) is None:
            raise Http404("No such booking.")
        return view(request, booking_id, *args, **kwargs)

    return wrapper


DAYS_PER_PAGE = 7


def _shown_zone(request, mentor: MentorProfile, picked: str) -> str:
    """The zone the calendar shows: the one picked on the page, else the mentor's preference."""
    picked = canonical_zone(picked)
    if picked in available_timezones():
        return picked
    if mentor.slot_display_zone == MentorProfile.DisplayZone.MENTOR:
        return mentor.user.time_zone
    return request.viewer_zone


def mentor_profile(request, mentor_id: int):
    mentor = get_object_or_404(
        MentorProfile.objects.select_related("user"), pk=mentor_id, status=MentorProfile.Status.APPROVED
    )
    form = BookSessionForm(
        mentor=mentor,
        initial={"accessibility_needs": request.user.accessibility_needs if request.user.is_authenticated else ""},
    )
    query = CalendarQuery(request.GET)
    services_ = list(form.fields["service"].queryset)
    selected = next((s for s in services_ if s.pk == query.value("service")), services_[0] if services_ else None)
    week = query.value("week") or 0
    picked_zone = query.value("tz") or ""
    shown_zone = _shown_zone(request, mentor, picked_zone)
    zone = ZoneInfo(shown_zone)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    window_start = today + timedelta(days=DAYS_PER_PAGE * week)
    window_end = window_start + timedelta(days=DAYS_PER_PAGE)
    days = []
    if selected:
        slots = selectors.open_slots(selected, start=window_start, end=window_end)
        days = group_by_local_day(slots, zone)
    with timezone.override(zone):
        return render(
            request,
            "bookings/mentor_profile.html",
            {
                "mentor": mentor,
                "rating": selectors.rating_summary(mentor),
                "packages": mentor.packages.filter(is_active=True, service__is_active=True).select_related("service"),
                "response": selectors.response_phrase(selectors.typical_response(mentor)),
                "reviews": selectors.visible_reviews(mentor),
                "services": services_,
                "selected": selected,
                "days": days,
                "week": week,
                "window_start": window_start,
                "window_end": window_end - timedelta(days=1),
                "form": form,
                "mentor_zone": mentor.user.time_zone,
                "own_zone": request.viewer_zone,
                "viewer_zone": shown_zone,
                "zone_choices": TIME_ZONE_CHOICES,
                "tz_param": picked_zone if shown_zone == canonical_zone(picked_zone) else "",
            },
        )


@login_required
@require_POST
def book(request, mentor_id: int):
    mentor = get_object_or_404(MentorProfile, pk=mentor_id, status=MentorProfile.Status.APPROVED)
    form = BookSessionForm(request.POST, mentor=mentor)
    # Back to the calendar as the mentee left it: same service, week and zone.
    query = CalendarQuery(request.POST)
    where = {key: query.value(key) for key in ("service", "week", "tz")}
    back = f"{reverse('mentor_profile', args=[mentor.pk])}?{urlencode({k: v for k, v in where.items() if v})}"
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect(back)
    try:
        booking = services.booking_hold(
            mentee=request.user,
            service=form.cleaned_data["service"],
            start=form.cleaned_data["start"],
            message=form.cleaned_data["message"],
            accessibility_needs=form.cleaned_data["accessibility_needs"],
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(back)
    return redirect("checkout", booking_id=booking.pk)


@login_required
def my_bookings(request):
    bookings = list(selectors.bookings_for_mentee(request.user))
    now = timezone.now()
    upcoming = [
        b
        for b in bookings
        if b.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED, Booking.Status.HELD) and b.end > now
    ]
    return render(
        request,
        "bookings/my_bookings.html",
        {
            "upcoming": sorted(upcoming, key=lambda b: b.start),
            "reviews_given": Review.objects.filter(mentee=request.user).select_related(
                "mentee", "booking__service", "booking__mentor__user"
            ),
            "past": [
                b
                for b in bookings
                if b not in upcoming
                and b.status in (Booking.Status.COMPLETED, Booking.Status.CONFIRMED, Booking.Status.PENDING)
            ],
            "cancelled": [
                b
                for b in bookings
                if b.status
                in (Booking.Status.DECLINED, Booking.Status.EXPIRED, Booking.Status.CANCELLED, Booking.Status.NO_SHOW)
            ],
        },
    )


def _suggestable_days(booking: Booking):
    """Free times of the same session type in the next two weeks, other than the requested one."""
    now = timezone.now()
    slots = selectors.open_slots(booking.service, start=now, end=now + timedelta(days=14), ignoring=booking.pk)
    return group_by_local_day([s for s in slots if s != booking.start][:40], timezone.get_current_timezone())


@login_required
def booking_detail(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None:
        raise Http404("No such booking.")
    is_mentor = booking.mentor.user_id == request.user.pk
    now = timezone.now()
    open_ticket = booking.tickets.filter(status="open").first()
    review = Review.objects.filter(booking=booking).first()
    return render(
        request,
        "bookings/booking_detail.html",
        {
            "booking": booking,
            "is_mentor": is_mentor,
            "banner": selectors.session_banner(
                booking, for_mentor=is_mentor, now=now, open_ticket=open_ticket, reviewed=review is not None
            ),
            "policy_applies": booking.status in selectors.POLICY_STATUSES and now < booking.end,
            "events": booking.events.select_related("actor"),
            "decline_form": DeclineForm(),
            "links_form": LinksForm(
                initial={"meeting_link": booking.meeting_link, "availability_link": booking.availability_link}
            ),
            "now": now,
            "ended": booking.end <= now,
            "join_open": booking.join_opens_at() <= now < booking.end,
            "no_show_open": booking.start + services.NO_SHOW_WAIT <= now,
            "can_move": booking.status in ("pending", "confirmed")
            and now < booking.cancellation_deadline
            and booking.reschedules_used < booking.reschedule_limit,
            "open_ticket": open_ticket,
            "review": review,
            "reply_form": ReplyForm(),
            "suggestions": booking.suggestions.all() if booking.status in ("pending", "confirmed") else [],
            "suggestable_days": _suggestable_days(booking)
            if is_mentor and booking.status in ("pending", "confirmed") and booking.start > timezone.now()
            else [],
        },
    )


@approved_mentor_required
def mentor_bookings(request, profile):
    bookings = list(selectors.bookings_for_mentor(profile))
    now = timezone.now()
    S = Booking.Status
    return render(
        request,
        "bookings/mentor_bookings.html",
        {
            "pending": [b for b in bookings if b.status == S.PENDING],
            "upcoming": [b for b in bookings if b.status == S.CONFIRMED and b.end > now],
            "to_complete": [b for b in bookings if b.status == S.CONFIRMED and b.end <= now],
            "past": [b for b in bookings if b.status == S.COMPLETED][::-1],
            "cancelled": [b for b in bookings if b.status in (S.DECLINED, S.EXPIRED, S.CANCELLED, S.NO_SHOW)][::-1],
            "decline_form": DeclineForm(),
        },
    )


def _mentor_action(request, booking_id: int, action, success: str):
    try:
        booking = action()
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success.format(mentee=booking.mentee))
    return redirect(safe_next(request) or "mentor_bookings")


@login_required
@require_POST
@party_only
def confirm(request, booking_id: int):
    return _mentor_action(
        request,
        booking_id,
        lambda: services.booking_confirm(booking_id, actor=request.user),
        "Confirmed. {mentee} has been told.",
    )


@login_required
@require_POST
@party_only
def decline(request, booking_id: int):
    form = DeclineForm(request.POST)
    if not form.is_valid():  # nothing is declined with a reason the mentee would not get to read
        messages.error(request, f"Not declined: {form.errors['reason'][0]}")
        return redirect("booking_detail", booking_id=booking_id)
    return _mentor_action(
        request,
        booking_id,
        lambda: services.booking_decline(booking_id, actor=request.user, reason=form.cleaned_data["reason"]),
        "Declined. {mentee} gets a full refund automatically.",
    )


@login_required
@require_POST
@party_only
def complete(request, booking_id: int):
    return _mentor_action(
        request,
        booking_id,
        lambda: services.booking_complete(booking_id, actor=request.user),
        "Marked complete. Your share is added to your balance in Earnings.",
    )


def _party_booking(request, booking_id: int) -> Booking:
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None:
        raise Http404("No such booking.")
    return booking


@login_required
def cancel(request, booking_id: int):
    """GET previews what cancelling means for the money (the same policy the cancellation uses); POST cancels."""
    booking = _party_booking(request, booking_id)
    by = "mentor" if booking.mentor.user_id == request.user.pk else "mentee"
    if request.method == "POST":
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Not cancelled: {form.errors['reason'][0]}")
            return redirect("booking_cancel", booking_id=booking.pk)
        try:
            booking = services.booking_cancel(booking.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except services.BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Cancelled. {booking.cancellation_summary}")
        return redirect("booking_detail", booking_id=booking.pk)
    terms = policies.cancellation_terms(booking, by=by)
    return render(request, "bookings/cancel.html", {"booking": booking, "terms": terms, "by": by})


@login_required
def reschedule(request, booking_id: int):
    booking = _party_booking(request, booking_id)
    if request.method == "POST":
        form = BookSessionForm(
            {"service": booking.service_id, "start": request.POST.get("start", "")}, mentor=booking.mentor
        )
        if not form.is_valid():
            messages.error(request, "Pick a time from the calendar.")
            return redirect("booking_reschedule", booking_id=booking.pk)
        try:
            services.booking_reschedule(booking.pk, actor=request.user, new_start=form.cleaned_data["start"])
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect("booking_reschedule", booking_id=booking.pk)
        messages.success(request, "Moved. You both get the new time by e-mail.")
        return redirect("booking_detail", booking_id=booking.pk)
    zone = timezone.get_current_timezone()
    now = timezone.now()
    slots = selectors.open_slots(booking.service, start=now, end=now + timedelta(days=14))
    return render(
        request,
        "bookings/reschedule.html",
        {"booking": booking, "days": group_by_local_day([s for s in slots if s != booking.start], zone)},
    )


@login_required
@require_POST
@party_only
def set_links(request, booking_id: int):
    form = LinksForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("booking_detail", booking_id=booking_id)
    try:
        services.booking_set_links(booking_id, actor=request.user, **form.cleaned_data)
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Links saved. The mentee sees them on their booking.")
    return redirect("booking_detail", booking_id=booking_id)


@login_required
@require_POST
@party_only
@rate_limited("support")
def report_no_show(request, booking_id: int):
    form = SupportNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not reported: {form.errors['note'][0]}")
        return redirect("booking_detail", booking_id=booking_id)
    try:
        ticket = services.no_show_report(booking_id, actor=request.user, note=form.cleaned_data["note"])
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Reported (ticket #{ticket.pk}). Our support team will get back to you both.")
    return redirect("booking_detail", booking_id=booking_id)


@login_required
@require_POST
@party_only
def suggest_times(request, booking_id: int):
    form = SuggestTimesForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Pick times from the list." if "start" in form.errors else f"Not sent: {form.errors['note'][0]}"
        )
        return redirect("booking_detail", booking_id=booking_id)
    try:
        services.booking_suggest_times(
            booking_id, actor=request.user, starts=form.cleaned_data["start"], note=form.cleaned_data["note"]
        )
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Suggestions sent. The booking stays pending until the mentee picks one.")
    return redirect("booking_detail", booking_id=booking_id)


@login_required
@require_POST
@party_only
def accept_suggestion(request, booking_id: int):
    form = AcceptSuggestionForm(request.POST)
    if not form.is_valid():
        raise Http404("No such suggestion.")
    try:
        services.booking_accept_suggestion(
            booking_id, actor=request.user, suggestion_id=form.cleaned_data["suggestion"]
        )
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Confirmed for the new time. See you there!")
    return redirect("booking_detail", booking_id=booking_id)


@login_required
@require_POST
@party_only
@rate_limited("support")
def contact_support(request, booking_id: int):
    form = SupportNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not sent: {form.errors['note'][0]}")
        return redirect("booking_detail", booking_id=booking_id)
    try:
        ticket = services.dispute_open(booking_id, actor=request.user, note=form.cleaned_data["note"])
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Sent to support (ticket #{ticket.pk}). We'll reply by e-mail.")
    return redirect("booking_detail", booking_id=booking_id)
