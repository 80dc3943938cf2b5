"""Pages on the people side: home and directory, settings, applying, and the mentor's own setup."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import booking_draft, connected_calendars, data_rights, forms, hours, media_storage, selectors, services
from .models import MentorProfile, Service
from .money import format_cents
from .rate_limits import rate_limited
from .zones import zone_label


def approved_mentor_required(view):
    """Signed in and an approved mentor; others are told what to do instead."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        profile = request.user.approved_mentor_profile
        if profile is None:
            messages.info(request, "That page is for approved mentors. Apply to become a mentor first.")
            return redirect("become_mentor")
        return view(request, profile, *args, **kwargs)

    return wrapper


def how_it_works_for_mentors(request):
    return render(
        request,
        "mentorship/how_it_works_mentors.html",
        {
            "fee_percent": f"{settings.PLATFORM_FEE_PERCENT:g}",
            "payout_minimum": format_cents(settings.PAYOUT_MINIMUM_CENTS, settings.PLATFORM_CURRENCY),
        },
    )


@require_POST
def forget_booking_draft(request):
    """ "Not your choice? Forget it" on the sign-in pages: a choice left on a shared computer goes away."""
    booking_draft.discard(request)
    messages.info(request, "That choice is forgotten. Pick a time on a mentor's page to book.")
    return redirect("account_login")


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    form = forms.AccountSettingsForm(
        request.POST or None,
        initial={
            "display_name": request.user.display_name,
            "time_zone": request.user.time_zone,
            "accessibility_needs": request.user.accessibility_needs,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.account_update(request.user, **form.cleaned_data)
        messages.success(request, f"Saved. Times are now shown in {zone_label(request.user.time_zone)}.")
        return redirect("account_settings")
    return render(request, "mentorship/settings.html", {"form": form})


@login_required
@require_POST
@rate_limited("export")
def account_data_download(request):
    """A copy of everything we hold about the person: a zip of JSON files (mentorship.data_rights)."""
    name, content = data_rights.export_zip(request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
@rate_limited("delete")  # the password is asked again here: no guessing it at speed with a session left open
def account_delete(request):
    form = forms.AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            data_rights.account_delete(request.user.pk)
        except data_rights.DeletionRefused as refused:
            messages.error(request, str(refused))
            return redirect("account_delete")
        logout(request)
        messages.success(request, "Your account is deleted. Thank you for having been part of Mentorship.")
        return redirect("home")
    context = {
        "form": form,
        "ends": data_rights.what_deleting_ends(request.user),
        "not_yet": data_rights.why_not_yet(request.user),
    }
    return render(request, "mentorship/account_delete.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def become_mentor(request):
    profile = getattr(request.user, "mentor_profile", None)
    if profile is not None and profile.status != MentorProfile.Status.REJECTED:
        return render(request, "mentorship/application_status.html", {"profile": profile})
    form = forms.MentorApplicationForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.mentor_apply(request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        except services.MentorError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Thanks for applying! Our staff review applications and will e-mail you.")
        return redirect("become_mentor")
    return render(request, "mentorship/become_mentor.html", {"form": form, "profile": profile})


@approved_mentor_required
@require_http_methods(["GET", "POST"])
@rate_limited("photo", when=lambda request: "photo" in request.FILES)  # each photo is decoded and re-encoded
def mentor_profile_edit(request, profile):
    form = forms.MentorProfileForm(request.POST or None, instance=profile)
    photo_form = forms.PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and photo_form.is_valid():
        try:
            services.mentor_profile_update(
                profile, **{f: form.cleaned_data[f] for f in form.Meta.fields}, **photo_form.cleaned_data
            )
        except services.MentorError as error:  # the photo store failed: the form comes back as typed
            photo_form.add_error(None, str(error))
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("mentor_profile_edit")
    return render(
        request,
        "mentorship/mentor_profile_edit.html",
        {"form": form, "photo_form": photo_form, "profile": profile},
        status=400 if form.errors or photo_form.errors else 200,
    )


def mentor_photo(request, mentor_id: int):
    """A mentor's photo at an address of ours that changes with the photo: from the disk, or a redirect to the
    shared bucket (a signed link, or its public address), so no worker streams it (mentorship/media_storage.py)."""
    profile = get_object_or_404(MentorProfile, pk=mentor_id, status=MentorProfile.Status.APPROVED)
    if not profile.photo:
        raise Http404("No photo.")
    if settings.MEDIA_BUCKET:
        public = bool(settings.MEDIA_PUBLIC_URL)
        response = redirect(profile.photo.url)
        response["Cache-Control"] = f"public, max-age={media_storage.photo_cache_seconds(public=public)}"
        return response
    response = FileResponse(profile.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@approved_mentor_required
def mentor_services(request, profile):
    return render(
        request,
        "mentorship/mentor_services.html",
        {
            "profile": profile,
            "services": profile.services.all(),
            "packages": profile.packages.select_related("service"),  # sold through bookings
            "listed": selectors.listed_mentors().filter(pk=profile.pk).exists(),
            "steps": selectors.setup_steps(profile),
        },
    )


@approved_mentor_required
@require_POST
def mentor_service_move(request, profile, service_id):
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        raise Http404("No such direction.")
    step = -1 if form.cleaned_data["direction"] == "up" else 1
    try:
        services.service_move(profile, service_id=service_id, step=step)
    except services.MentorError:
        raise Http404("No such session type.") from None
    return redirect("mentor_services")


@approved_mentor_required
@require_http_methods(["GET", "POST"])
def mentor_service_edit(request, profile, service_id=None):
    service = get_object_or_404(Service, pk=service_id, mentor=profile) if service_id else None
    form = forms.ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.service_save(
            profile,
            service=service,
            title=data["title"],
            description=data["description"],
            duration_minutes=data["duration_minutes"],
            price_cents=int(data["price"] * 100),
            is_active=data["is_active"],
            format=data["format"],
            address=data["address"],
            access_notes=data["access_notes"],
            policy=data["policy"],
            buffer_before_minutes=data["buffer_before_minutes"],
            buffer_after_minutes=data["buffer_after_minutes"],
            cancellation_window_hours=data["cancellation_window_hours"],
            free_sessions_per_mentee=data["free_sessions_per_mentee"],
        )
        messages.success(request, f"“{data['title']}” is saved.")
        return redirect("mentor_services")
    return render(request, "mentorship/mentor_service_edit.html", {"form": form, "service": service})


@approved_mentor_required
@require_http_methods(["GET", "POST"])
def mentor_schedule(request, profile):
    data = request.POST if request.method == "POST" else None
    hours_form = forms.WeeklyHoursForm(data, profile=profile)
    rules_form = forms.ScheduleRulesForm(data, instance=MentorProfile.objects.get(pk=profile.pk))
    if data is not None and hours_form.is_valid() and rules_form.is_valid():
        services.schedule_update(
            profile,
            time_zone=hours_form.cleaned_data["time_zone"],
            weekly=hours_form.weekly_ranges(),
            rules={name: rules_form.cleaned_data[name] for name in rules_form.Meta.fields},
        )
        messages.success(request, f"Your schedule is saved (in {zone_label(hours_form.cleaned_data['time_zone'])}).")
        return redirect("mentor_schedule")
    if data is not None:
        messages.error(request, "Nothing was saved: please correct the marked fields.")
    else:
        connected_calendars.refresh_when_viewed(profile)
    return _render_schedule(request, profile, hours_form=hours_form, rules_form=rules_form)


def _render_schedule(request, profile, **forms_):
    context = {
        "profile": profile,
        "hours_form": forms.WeeklyHoursForm(profile=profile),
        "rules_form": forms.ScheduleRulesForm(instance=profile),
        "override_form": forms.DateOverrideForm(),
        "vacation_form": forms.VacationForm(),
        "overrides": selectors.upcoming_overrides(profile),
        "vacations": profile.vacations.filter(end_date__gte=timezone.localdate()),
        "calendars": selectors.connected_calendars(profile),
        **forms_,
    }
    status = 400 if any(form.errors for form in forms_.values()) else 200
    return render(request, "mentorship/mentor_schedule.html", context, status=status)


@approved_mentor_required
@require_POST
def mentor_date_override(request, profile):
    if "remove" in request.POST:
        form = forms.DateOverrideForm({"date": request.POST.get("remove")})
        if form.is_valid():
            services.date_override_remove(profile, day=form.cleaned_data["date"])
            messages.success(request, f"{form.cleaned_data['date']:%A %-d %B} follows your weekly hours again.")
        return redirect("mentor_schedule")
    form = forms.DateOverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: please correct the date override.")
        return _render_schedule(request, profile, override_form=form)
    day, ranges = form.cleaned_data["date"], form.cleaned_data["hours"]
    services.date_override_set(profile, day=day, ranges=ranges)
    what = f"hours {hours.format_ranges(ranges)}" if ranges else "a day off"
    messages.success(request, f"{day:%A %-d %B} is now {what}.")
    return redirect("mentor_schedule")


@approved_mentor_required
@require_POST
def mentor_vacation(request, profile):
    if "remove" in request.POST:
        remove = forms.RemoveVacationForm(request.POST)
        if remove.is_valid() and services.vacation_remove(profile, vacation_id=remove.cleaned_data["remove"]):
            messages.success(request, "Vacation removed.")
        return redirect("mentor_schedule")
    form = forms.VacationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: please correct the vacation.")
        return _render_schedule(request, profile, vacation_form=form)
    services.vacation_add(profile, **form.cleaned_data)
    messages.success(request, "Vacation added: nobody can book you on those days.")
    return redirect("mentor_schedule")


def bench_hello(request):
    """A bare page for the benchmark (bench/web.py): what our middleware costs with no view work. Off unless
    BENCH_HELLO is set, so production answers 404."""
    if not settings.BENCH_HELLO:
        raise Http404
    return HttpResponse(b"hello", content_type="text/plain")
