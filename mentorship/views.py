"""Pages on the people side: home and directory, settings, applying, and the mentor's own setup."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from . import forms, services
from .models import MentorProfile, Service


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


def home(request):
    mentors = (
        MentorProfile.objects.filter(status=MentorProfile.Status.APPROVED, services__is_active=True)
        .select_related("user")
        .distinct()
    )
    return render(request, "mentorship/home.html", {"mentors": mentors})


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    form = forms.AccountSettingsForm(
        request.POST or None,
        initial={"display_name": request.user.display_name, "time_zone": request.user.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        services.account_update(request.user, **form.cleaned_data)
        messages.success(request, f"Saved. Times are now shown in {request.user.time_zone}.")
        return redirect("account_settings")
    return render(request, "mentorship/settings.html", {"form": form})


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
def mentor_profile_edit(request, profile):
    form = forms.MentorProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.mentor_profile_update(profile, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        messages.success(request, "Your profile is saved.")
        return redirect("mentor_profile_edit")
    return render(request, "mentorship/mentor_profile_edit.html", {"form": form, "profile": profile})


@approved_mentor_required
def mentor_services(request, profile):
    return render(request, "mentorship/mentor_services.html", {"profile": profile, "services": profile.services.all()})


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
        )
        messages.success(request, f"“{data['title']}” is saved.")
        return redirect("mentor_services")
    return render(request, "mentorship/mentor_service_edit.html", {"form": form, "service": service})


@approved_mentor_required
@require_http_methods(["GET", "POST"])
def mentor_availability(request, profile):
    day_forms = forms.weekly_hours_forms(profile.availability.all(), request.POST or None)
    if request.method == "POST" and all(f.is_valid() for f in day_forms):
        services.availability_replace(
            profile,
            [
                (f.weekday, f.cleaned_data["start_time"], f.cleaned_data["end_time"])
                for f in day_forms
                if f.cleaned_data["available"]
            ],
        )
        messages.success(request, f"Your weekly hours are saved (in {request.user.time_zone}).")
        return redirect("mentor_availability")
    return render(request, "mentorship/mentor_availability.html", {"day_forms": day_forms, "profile": profile})
