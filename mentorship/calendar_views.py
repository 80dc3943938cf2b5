"""Settings → Calendars: the mentor connects their own calendars, whose busy time hides slots."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import connected_calendars, forms, selectors
from .rate_limits import rate_limited
from .views import approved_mentor_required


@sensitive_post_parameters("address")  # a secret address: never in an error report
@approved_mentor_required
@require_http_methods(["GET", "POST"])
@rate_limited("calendar")
def calendars(request, profile):
    form = forms.ConnectCalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = connected_calendars.connect_ics(profile, **form.cleaned_data)
        except connected_calendars.CalendarError as error:
            form.add_error("address", str(error))
        else:
            messages.success(
                request, f"“{calendar.name}” is connected. Its busy times will hide your slots in a minute."
            )
            return redirect("calendars")
    context = {"form": form, "calendars": selectors.connected_calendars(profile)}
    return render(request, "mentorship/calendars.html", context, status=400 if form.errors else 200)


@approved_mentor_required
@require_POST
def calendar_remove(request, profile):
    form = forms.RemoveCalendarForm(request.POST)
    if form.is_valid() and connected_calendars.disconnect(profile, form.cleaned_data["remove"]):
        messages.success(request, "Calendar removed: its busy times no longer hide your slots.")
    return redirect("calendars")
