"""Notifications, e-mail preferences and calendar downloads."""

import gzip
import hashlib
import re
import time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_POST

from bookings import selectors
from bookings.forms import safe_next
from bookings.views import section_pages
from mentorship import table_versions
from mentorship.input_rules import BoundedForm
from mentorship.page_cache import viewer_page

from . import calendar, services, suppression
from . import selectors as notification_selectors
from .models import CalendarFeed, Preferences


class PreferencesForm(BoundedForm, forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["email_bookings", "email_reminders", "email_payouts"]


class AddressWorksForm(BoundedForm, forms.Form):
    """The banner's "It works now", with the address the banner showed: a page left open from before a change
    of address says nothing about the new one."""

    email = forms.EmailField(max_length=254)


class ReadForm(BoundedForm, forms.Form):
    """One notification by id; none means all of them."""

    notification = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


@login_required
def booking_ics(request, booking_id: int):
    booking = selectors.booking_for_party(request.user, booking_id)
    if booking is None:
        raise Http404("No such booking.")
    body = calendar.booking_ics(booking, for_mentor=booking.mentor.user_id == request.user.pk)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="session-{booking.pk}.ics"'
    return response


NOTIFICATIONS_PAGE_SIZE = 25


@login_required
@viewer_page(params=["notifications_page"])
def notification_list(request):
    pages = section_pages(
        request, {"notifications": notification_selectors.recent(request.user)}, per_page=NOTIFICATIONS_PAGE_SIZE
    )
    return render(request, "notifications/list.html", pages)


@login_required
@require_POST
def notification_read(request):
    """Mark one notification (or all, without an id) as read; opening one goes on to what it is about."""
    form = ReadForm(request.POST)
    if not form.is_valid():
        raise Http404("No such notification.")
    if notification_id := form.cleaned_data["notification"]:
        services.mark_read(request.user, notification_id=notification_id)
        link = notification_selectors.link_of(request.user, notification_id)
        return redirect(link or "notifications")
    count = services.mark_read(request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notifications")


@login_required
def notification_settings(request):
    preferences = Preferences.objects.filter(user=request.user).first() or Preferences(user=request.user)
    form = PreferencesForm(request.POST or None, instance=preferences)
    if request.method == "POST":
        if "reset_feed" in request.POST:
            services.calendar_feed_token(request.user, reset=True)
            messages.success(request, "New calendar address made. The old one no longer works.")
            return redirect("notification_settings")
        if form.is_valid():
            services.preferences_update(request.user, **form.cleaned_data)
            messages.success(request, "Your e-mail choices are saved. Everything still shows under Notifications.")
            return redirect("notification_settings")
    token = services.calendar_feed_token(request.user)
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return render(request, "notifications/settings.html", {"form": form, "feed_url": feed_url})


@login_required
@require_POST
def email_works_again(request):
    """The banner's "It works now": our notices are e-mailed to the person's own address again."""
    form = AddressWorksForm(request.POST)
    shown = form.cleaned_data["email"] if form.is_valid() else ""
    address = request.user.email
    if suppression.normalized(shown) != suppression.normalized(address):
        messages.error(request, "Nothing changed: that is not your e-mail address now.")
    elif suppression.address_allow(user=request.user):
        messages.success(request, f"Thank you. We'll e-mail {address} again.")
    else:
        messages.info(request, f"We already e-mail {address}.")
    return redirect(safe_next(request) or "home")


# Bump when feed_ics writes something new, so bodies cached by the old code are not served.
FEED_FORMAT = 2  # 2: kept gzipped
FEED_CACHE_SECONDS = 24 * 3600


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: named (or "*") without q=0."""
    for coding in accept_encoding[:500].split(","):
        name, _, parameters = coding.partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            quality = re.match(r"\s*q\s*=\s*([0-9.]+)", parameters)
            try:
                return quality is None or float(quality.group(1)) > 0
            except ValueError:
                return False
    return False


def calendar_feed(request, token: str):
    """A calendar app fetches this without logging in: the secret token is the key.

    Calendar apps fetch it again and again: the ETag and Last-Modified come from one aggregate query, so an
    unchanged feed answers 304 Not Modified, and a changed one is built once per version and then cached.
    Within a minute in which none of the tables it read changed, the answer is kept whole: no query at all.
    It is kept gzipped and sent so to every client that accepts it (calendar apps do): a year of sessions is a
    tenth of the bytes.
    """
    minute = int(time.time() // 60)
    answer = table_versions.kept(
        f"calendar-feed-answer:{hashlib.sha256(token.encode()).hexdigest()}:{minute}",
        60,
        lambda: _feed_answer(token),
        keep=lambda answer: answer is not None,
    )
    if answer is None:
        raise Http404("No such calendar.")
    version, last_modified, gzipped = answer
    zipped = _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = quote_etag(version)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        body = gzipped if zipped else gzip.decompress(gzipped)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        if zipped:
            response["Content-Encoding"] = "gzip"
    if zipped:
        etag = "W/" + etag  # another representation of the same feed, as Django's GZipMiddleware marks it
    patch_vary_headers(response, ["Accept-Encoding"])
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "private, max-age=300"
    return response


def _feed_answer(token: str) -> tuple[str, int, bytes] | None:
    """The feed's version, its last change (a timestamp) and its body gzipped; None for a token that opens
    nothing."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None:
        return None
    now = timezone.now()
    count, changed = selectors.calendar_version(feed.user, now=now)
    changed = changed or feed.created_at
    version = f"{FEED_FORMAT}-{feed.user_id}-{count}-{changed.timestamp():.6f}"
    key = f"calendar-feed:{version}"
    gzipped = cache.get(key)
    if gzipped is None:
        body = calendar.feed_ics(feed.user, selectors.calendar_bookings(feed.user, now=now))
        gzipped = gzip.compress(body.encode() if isinstance(body, str) else body, mtime=0)
        cache.set(key, gzipped, FEED_CACHE_SECONDS)
    return version, int(changed.timestamp()), gzipped
