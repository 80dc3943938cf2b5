"""Settings → Calendars: the mentor connects their own calendars, whose busy time hides slots."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import caldav_accounts, connected_calendars, forms, sealed, selectors
from .caldav_accounts import Account
from .calendar_feeds import FeedError
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
    context = {
        "form": form,
        "caldav_form": forms.CalDAVAccountForm(),
        "calendars": selectors.connected_calendars(profile),
    }
    return render(request, "mentorship/calendars.html", context, status=400 if form.errors else 200)


def _render(request, profile, *, form, caldav_form):
    context = {"form": form, "caldav_form": caldav_form, "calendars": selectors.connected_calendars(profile)}
    status = 400 if form.errors or caldav_form.errors else 200
    return render(request, "mentorship/calendars.html", context, status=status)


@approved_mentor_required
@require_POST
def calendar_remove(request, profile):
    form = forms.RemoveCalendarForm(request.POST)
    if form.is_valid() and connected_calendars.disconnect(profile, form.cleaned_data["remove"]):
        messages.success(request, "Calendar removed: its busy times no longer hide your slots.")
    return redirect("calendars")


PENDING_ACCOUNT = "caldav_account"  # the session keeps the account, sealed, between its two steps
PENDING_FOUND = "caldav_found"


@sensitive_post_parameters("password")
@approved_mentor_required
@require_POST
@rate_limited("calendar")
def caldav_account(request, profile):
    """Step one: the server and an app password; we find the account's calendars."""
    form = forms.CalDAVAccountForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        account = Account(data["server"].strip(), data["username"].strip(), data["password"])
        try:
            found = caldav_accounts.calendars(account)
        except FeedError as error:
            form.add_error(None, str(error))
        else:
            request.session[PENDING_ACCOUNT] = sealed.seal(account.sealable())
            request.session[PENDING_FOUND] = found
            return redirect("caldav_pick")
    context = {
        "form": forms.ConnectCalendarForm(),
        "caldav_form": form,
        "calendars": selectors.connected_calendars(profile),
    }
    return render(request, "mentorship/calendars.html", context, status=400)


@approved_mentor_required
@require_http_methods(["GET", "POST"])
def caldav_pick(request, profile):
    """Step two: which of the account's calendars count as busy, and which one gets the sessions."""
    sealed_account, found = request.session.get(PENDING_ACCOUNT), request.session.get(PENDING_FOUND)
    if not sealed_account or not found:
        return redirect("calendars")
    found = [tuple(pair) for pair in found]
    form = forms.CalDAVPickForm(request.POST or None, found=found)
    if request.method == "POST" and form.is_valid():
        try:
            account = Account.from_sealed(sealed.unseal(sealed_account))
        except sealed.Unreadable:  # the keys changed since step one
            request.session.pop(PENDING_ACCOUNT, None)
            messages.error(request, "Please sign in to your calendar account again.")
            return redirect("calendars")
        try:
            made = connected_calendars.connect_caldav(
                profile,
                account,
                found=dict(found),
                busy=form.cleaned_data["busy"],
                write_to=form.cleaned_data["write_to"],
            )
        except connected_calendars.CalendarError as error:
            form.add_error(None, str(error))
        else:
            request.session.pop(PENDING_ACCOUNT, None)
            request.session.pop(PENDING_FOUND, None)
            messages.success(request, f"Connected: {', '.join(calendar.name for calendar in made)}.")
            return redirect("calendars")
    return render(request, "mentorship/caldav_pick.html", {"form": form}, status=400 if form.errors else 200)
