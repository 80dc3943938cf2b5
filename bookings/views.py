"""Booking pages: a mentor's profile with free times, My Bookings, the mentor's Bookings."""

from datetime import datetime, time, timedelta
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mentorship import booking_draft
from mentorship.directory_version import DIRECTORY
from mentorship.models import MentorProfile
from mentorship.page_cache import anonymous_page, viewer_page
from mentorship.rate_limits import rate_limited
from mentorship.services import free_time_version
from mentorship.views import approved_mentor_required
from mentorship.zones import canonical_zone, is_known_zone

from . import packages, picker, policies, selectors, services
from .forms import (
    AcceptSuggestionForm,
    BookSessionForm,
    CalendarQuery,
    CancelForm,
    DeclineForm,
    LinksForm,
    ReplyForm,
    SectionPagesForm,
    StartForm,
    SuggestTimesForm,
    SupportNoteForm,
    TimesQuery,
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


def _shown_zone(request, mentor: MentorProfile, picked: str) -> str:
    """The zone the calendar shows: the one picked on the page, else the mentor's preference."""
    picked = canonical_zone(picked)
    if is_known_zone(picked):
        return picked
    if mentor.slot_display_zone == MentorProfile.DisplayZone.MENTOR:
        return mentor.user.time_zone
    return request.viewer_zone


def _calendar_today(zone: ZoneInfo, mentor: MentorProfile) -> tuple[datetime, datetime]:
    """Midnight today in the zone the calendar shows, and the end of the calendar's time."""
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return today, picker.picker_end(today, mentor.booking_horizon_days)


def _profile_versions(request, mentor_id: int) -> tuple:
    """What a kept profile page depends on: the mentor's free time (every booking and schedule change moves its
    version) and what the directory shows of them (profile, session types, reviews, packages)."""
    return free_time_version(mentor_id), DIRECTORY


# Kept briefly for visitors with nothing of their own: a time taken meanwhile shows as taken at once (the
# availability version), and one that came within the notice during the minute is refused at booking.
@anonymous_page(60, params=CalendarQuery.base_fields, versions=_profile_versions)
@viewer_page(params=CalendarQuery.base_fields)
def mentor_profile(request, mentor_id: int):
    mentor = get_object_or_404(
        MentorProfile.objects.select_related("user"), pk=mentor_id, status=MentorProfile.Status.APPROVED
    )
    form = BookSessionForm(
        mentor=mentor,
        initial={
            "accessibility_needs": request.user.accessibility_needs if request.user.is_authenticated else "",
            # What they typed before signing in, when the time they chose was taken meanwhile.
            **booking_draft.take_leftover(request, mentor.pk),
        },
    )
    query = CalendarQuery(request.GET)
    services_ = list(form.fields["service"].queryset)
    selected = next((s for s in services_ if s.pk == query.value("service")), services_[0] if services_ else None)
    picked_zone = query.value("tz") or ""
    shown_zone = _shown_zone(request, mentor, picked_zone)
    zone = ZoneInfo(shown_zone)
    today, grid_end = _calendar_today(zone, mentor)
    last = (grid_end - timedelta(days=1)).date()
    calendar = None
    if selected:
        # One slot query tells the free days of the whole grid; the page carries only the shown day's times.
        slots = selectors.open_slots(selected, start=today, end=grid_end)
        free = picker.free_days(slots, zone=zone, last=last)
        day = _shown_day(query, free, today=today.date(), last=last)
        times = picker.day_slots(slots, zone=zone, day=day)
        earlier, later = picker.month_steps(day, free=free, today=today.date(), last=last)
        calendar = {
            "free": free,
            "day": day,
            "times": times,
            "weeks": picker.month_weeks(day, free=set(free), picked=day, today=today.date(), last=last),
            "earlier": earlier,
            "later": later,
            # What static/js/calendar.js reads: the grid's free days and the shown day's times, nothing more.
            "data": {
                "today": today.date().isoformat(),
                "last": last.isoformat(),
                "free": [d.isoformat() for d in free],
                "day": day.isoformat(),
                "times": picker.day_times(times, mentor_zone=mentor.user.zone, duration=selected.duration),
            },
        }
    tz_param = picked_zone if shown_zone == canonical_zone(picked_zone) else ""
    # A mentee who has had all the free sessions of this type the mentor offers each is told so, not shown times.
    limited = selected is not None and selectors.free_limit_reached(request.user, selected)
    free_limit = selectors.free_limit_text(selected) if limited else ""
    with timezone.override(zone):
        return render(
            request,
            "bookings/mentor_profile.html",
            {
                "mentor": mentor,
                "rating": selectors.rating_summary(mentor),
                "packages": packages.offered(mentor.packages).select_related("service"),
                "response": selectors.response_phrase(selectors.typical_response(mentor)),
                "reviews": selectors.visible_reviews(mentor),
                "services": services_,
                "selected": selected,
                "week": (calendar["day"] - today.date()).days // 7 if calendar else 0,
                "form": form,
                "mentor_zone": mentor.user.time_zone,
                "own_zone": request.viewer_zone,
                "viewer_zone": shown_zone,
                "zone_options": picker.zone_options(shown_zone, leave_out={request.viewer_zone, mentor.user.time_zone}),
                "calendar": calendar,
                "free_limit": free_limit,
                "tz_param": tz_param,
                "times_url": _times_url(mentor.pk, selected, tz=shown_zone) if selected else "",
                # The start of each day link of the grid shown without JavaScript (the day's date follows).
                "day_link": _day_link(selected, tz_param) if selected else "",
            },
        )


def _shown_day(query: CalendarQuery, free: list, *, today, last):
    """The day whose times the page shows: the one asked for (`?day=`), or the free day nearest to it (a day kept
    across a change of zone may hold its times on the day before or after in the new one); else the first free
    day of the week asked for (`?week=`, kept by a booking that failed); else the first free day."""
    asked = query.value("day")
    if asked and today <= asked <= last:
        return min(free, key=lambda day: (abs(day - asked), day), default=asked)
    from_day = min(today + timedelta(days=7 * (query.value("week") or 0)), last)
    return next((day for day in free if day >= from_day), from_day if query.value("week") else (free or [today])[0])


def _day_link(service, tz_param: str) -> str:
    query = {"service": service.pk, "tz": tz_param} if tz_param else {"service": service.pk}
    return f"?{urlencode(query)}&day="


def _times_url(mentor_id: int, service, *, tz: str) -> str:
    return reverse("mentor_times", args=[mentor_id]) + "?" + urlencode({"service": service.pk, "tz": tz})


@require_GET
@never_cache
def mentor_times(request, mentor_id: int):
    """One day's free times of a session type, as JSON, for the calendar script (a day picked in the grid).

    {"day": "2026-12-03", "times": [...]} in bookings.picker.day_times's shape; a day outside the calendar has
    no times. Never cached: a time taken a moment ago must not come back as free.
    """
    query = TimesQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"error": "Give a session type and a day (YYYY-MM-DD)."}, status=400)
    mentor = get_object_or_404(
        MentorProfile.objects.select_related("user"), pk=mentor_id, status=MentorProfile.Status.APPROVED
    )
    service = get_object_or_404(mentor.services.filter(is_active=True), pk=query.cleaned_data["service"])
    service.mentor = mentor
    zone = ZoneInfo(_shown_zone(request, mentor, query.cleaned_data["tz"]))
    day = query.cleaned_data["day"]
    today, grid_end = _calendar_today(zone, mentor)
    times = []
    if today.date() <= day < grid_end.date():
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        slots = selectors.open_slots(service, start=start, end=min(end, grid_end))
        local = picker.day_slots(slots, zone=zone, day=day)
        times = picker.day_times(local, mentor_zone=mentor.user.zone, duration=service.duration)
    return JsonResponse({"day": day.isoformat(), "times": times})


def _calendar_url(mentor_id: int, query: dict) -> str:
    """The mentor's profile with the calendar as the mentee left it: same service, week and zone."""
    query = {key: value for key, value in query.items() if value}
    return reverse("mentor_profile", args=[mentor_id]) + (f"?{urlencode(query)}" if query else "")


@require_POST
def book(request, mentor_id: int):
    """The "Book session" button: hold the time and go to checkout (a free session needs none: it is requested).

    A signed-out visitor's choice is kept in the session while they log in or sign up (no `next` back here: a GET
    of this address has nothing to book), and `book_resume` holds it after.
    """
    mentor = get_object_or_404(MentorProfile, pk=mentor_id, status=MentorProfile.Status.APPROVED)
    form = BookSessionForm(request.POST, mentor=mentor)
    query = CalendarQuery(request.POST)
    where = {key: query.value(key) for key in ("service", "day", "week", "tz")}
    back = _calendar_url(mentor.pk, where)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect(back)
    if not request.user.is_authenticated:
        booking_draft.keep(
            request,
            mentor=mentor.pk,
            service=form.cleaned_data["service"].pk,
            start=form.cleaned_data["start"],
            message=form.cleaned_data["message"],
            accessibility_needs=form.cleaned_data["accessibility_needs"],
            tz=where["tz"],
            week=where["week"],
        )
        messages.info(request, "Log in or sign up to book this time. We've kept your choice.")
        return redirect("account_login")
    booking_draft.discard(request)  # a choice kept before a sign-in that went elsewhere is replaced by this one
    try:
        booking = _hold(request.user, form.cleaned_data, accessibility_needs=form.cleaned_data["accessibility_needs"])
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(back)
    return _after_hold(request, booking)


def _after_hold(request, booking: Booking):
    """A paid session goes on to checkout; a free one was requested at once, so its page says what comes next."""
    if booking.status != Booking.Status.PENDING:
        return redirect("checkout", booking_id=booking.pk)
    messages.success(
        request,
        f"Your request is sent. It is Pending until {booking.mentor.user.display_name} confirms it; "
        "we'll e-mail you as soon as they do. No payment is needed: this session is free.",
    )
    return redirect("booking_detail", booking_id=booking.pk)


def _hold(mentee, chosen: dict, *, accessibility_needs: str | None) -> Booking:
    """Hold the time chosen on a mentor's calendar (BookSessionForm's cleaned data) for checkout."""
    return services.booking_hold(
        mentee=mentee,
        service=chosen["service"],
        start=chosen["start"],
        message=chosen["message"],
        accessibility_needs=accessibility_needs,
    )


# Each section of My Bookings and Bookings pages on its own (?past_page=2 leaves Upcoming where it was).
SECTION_PAGE_SIZE = 10


class CountedPaginator(Paginator):
    """A Paginator told its count (read with the other sections' in one query) instead of counting."""

    def __init__(self, object_list, per_page, *, count: int | None = None):
        super().__init__(object_list, per_page)
        if count is not None:
            self.count = count  # takes the place of the cached_property


def section_pages(request, sections: dict, counts: dict | None = None, per_page: int = SECTION_PAGE_SIZE) -> dict:
    """A Page per section from its own `?<section>_page=` parameter; a bad or too-high number shows the
    first or last page instead of an error. Each page carries the links to its neighbours (`prev_query`,
    `next_query`), the other sections' pages kept. A section missing from `counts` is counted on its own."""
    asked = SectionPagesForm(request.GET, sections=sections)
    numbers = asked.cleaned_data if asked.is_valid() else {}
    counts = counts or {}
    pages = {
        name: CountedPaginator(rows, per_page, count=counts.get(name)).get_page(numbers.get(f"{name}_page"))
        for name, rows in sections.items()
    }
    shown = {f"{name}_page": page.number for name, page in pages.items() if page.number > 1}

    def link(name: str, number: int) -> str:
        return "?" + urlencode(shown | {f"{name}_page": number})

    for name, page in pages.items():
        page.prev_query = link(name, page.previous_page_number()) if page.has_previous() else ""
        page.next_query = link(name, page.next_page_number()) if page.has_next() else ""
    return pages


TIME_GONE = "Sorry, that time was taken while you signed in. Please pick another."


@login_required
def book_resume(request):
    """After logging in or signing up: hold the time chosen before, then checkout.

    The draft is claimed from the session, so opening this address again (a reload, the back button) creates
    nothing: with no draft left it shows My Bookings, where a hold made here is listed.
    """
    draft = booking_draft.claim(request)
    if draft is None:
        return redirect("my_bookings")
    mentor = MentorProfile.objects.filter(pk=draft.mentor, status=MentorProfile.Status.APPROVED).first()
    if mentor is None:
        messages.error(request, "That mentor is not taking bookings any more. Please pick another mentor.")
        return redirect("home")
    back = _calendar_url(mentor.pk, draft.calendar_query())
    form = BookSessionForm(draft.form_data(), mentor=mentor)
    if not form.is_valid():  # the session type was closed, or the draft was not one the page made
        booking_draft.keep_leftover(request, draft)
        messages.error(request, TIME_GONE)
        return redirect(back)
    try:
        # Left empty while signed out (their saved needs were not shown then): the saved needs apply.
        needs = form.cleaned_data["accessibility_needs"] or None
        booking = _hold(request.user, form.cleaned_data, accessibility_needs=needs)
    except services.BookingError as error:
        booking_draft.keep_leftover(request, draft)
        messages.error(request, TIME_GONE if str(error) == services.SLOT_TAKEN else str(error))
        return redirect(back)
    return _after_hold(request, booking)


@login_required
@viewer_page(params=[f"{name}_page" for name in ("upcoming", "past", "cancelled", "reviews")])
def my_bookings(request):
    sections, counts = selectors.mentee_booking_sections(request.user, now=timezone.now())
    pages = section_pages(request, {**sections, "reviews": selectors.reviews_by_mentee(request.user)}, counts)
    booked_before = any(counts.values())
    return render(request, "bookings/my_bookings.html", {**pages, "booked_before": booked_before})


def _suggestable_days(booking: Booking):
    """Free times of the same session type in the next two weeks, other than the requested one."""
    now = timezone.now()
    slots = selectors.open_slots(booking.service, start=now, end=now + timedelta(days=14), ignoring=booking.pk)
    return group_by_local_day([s for s in slots if s != booking.start][:40], timezone.get_current_timezone())


@login_required
@viewer_page()
def booking_detail(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None:
        raise Http404("No such booking.")
    is_mentor = booking.mentor.user_id == request.user.pk
    if not is_mentor and booking.mentee_id != request.user.pk:  # staff: what happened, no party's actions
        return render(
            request, "bookings/booking_detail_staff.html", {"booking": booking, "events": booking.events.all()}
        )
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


@viewer_page(params=[f"{name}_page" for name in ("pending", "to_complete", "upcoming", "past", "cancelled")])
@approved_mentor_required  # inside: a kept page needs no look at the profile (drawing it read the table)
def mentor_bookings(request, profile):
    pages = section_pages(request, *selectors.mentor_booking_sections(profile, now=timezone.now()))
    return render(
        request,
        "bookings/mentor_bookings.html",
        {
            **pages,
            "requested_before": any(page.paginator.count for page in pages.values()),
            "profile_url": request.build_absolute_uri(reverse("mentor_profile", args=[profile.pk])),
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
            if booking.rebook_until is not None and by == "mentor":
                messages.success(
                    request, f"Cancelled. {booking.mentee} chooses a new time from your free ones or a refund."
                )
            else:
                messages.success(request, f"Cancelled. {booking.cancellation_summary}")
        return redirect("booking_detail", booking_id=booking.pk)
    terms = policies.cancellation_terms(booking, by=by)
    return render(request, "bookings/cancel.html", {"booking": booking, "terms": terms, "by": by})


def _take_new_time(request, booking: Booking, move, *, again: str, done: str):
    """The POST of a page where the mentee picks a new time: `move` (a service) takes it; any refusal goes back
    to the page (`again`) with its reason."""
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a time from the calendar.")
        return redirect(again, booking_id=booking.pk)
    try:
        move(booking.pk, actor=request.user, new_start=form.cleaned_data["start"])
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(again, booking_id=booking.pk)
    messages.success(request, done)
    return redirect("booking_detail", booking_id=booking.pk)


@login_required
def reschedule(request, booking_id: int):
    booking = _party_booking(request, booking_id)
    if request.method == "POST":
        return _take_new_time(
            request,
            booking,
            services.booking_reschedule,
            again="booking_reschedule",
            done="Moved. You both get the new time by e-mail.",
        )
    zone = timezone.get_current_timezone()
    now = timezone.now()
    slots = selectors.open_slots(booking.service, start=now, end=now + timedelta(days=14))
    return render(
        request,
        "bookings/reschedule.html",
        {"booking": booking, "days": group_by_local_day([s for s in slots if s != booking.start], zone)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def rebook(request, booking_id: int):
    """The mentor cancelled: the mentee picks a new time from the mentor's free ones, without paying again."""
    booking = _party_booking(request, booking_id)
    if booking.mentee_id != request.user.pk or booking.rebook_until is None:
        return redirect("booking_detail", booking_id=booking.pk)
    if request.method == "POST":
        return _take_new_time(
            request,
            booking,
            services.booking_rebook,
            again="booking_rebook",
            done="Booked again at the new time, without paying again. You both get it by e-mail.",
        )
    zone = timezone.get_current_timezone()
    now = timezone.now()
    end = now + timedelta(days=14)
    if booking.package_purchase_id:  # a credit is good until its package expires
        end = min(end, booking.package_purchase.expires_at)
    duration = booking.service.duration
    slots = [  # not the time the mentor cancelled
        start
        for start in selectors.open_slots(booking.service, start=now, end=end)
        if not (booking.blocked_start < start + duration and start < booking.blocked_end)
    ]
    return render(request, "bookings/rebook.html", {"booking": booking, "days": group_by_local_day(slots, zone)})


@login_required
@require_POST
@party_only
def take_refund(request, booking_id: int):
    try:
        booking = services.booking_take_refund(booking_id, actor=request.user)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, booking.cancellation_summary)
    return redirect("booking_detail", booking_id=booking_id)


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
