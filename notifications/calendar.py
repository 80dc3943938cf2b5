"""Calendar invites for bookings: one .ics per booking (icalendar) and add-to-calendar links.

The UID never changes; SEQUENCE follows Booking.calendar_sequence, so a calendar that
imported the first invite updates the event when the time moves or it is cancelled.
Times are written in UTC, which every client converts to its own zone correctly.
"""

from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from bookings.models import Booking
from mentorship import calendar_feeds, connected_calendars

PRODID = "-//Mentorship//Bookings//EN"

# Notices that change the calendar: their e-mails carry the booking's updated invite.
CALENDAR_KINDS = {
    "booking_confirmed",
    "suggestion_accepted",
    "booking_rescheduled",
    "booking_rebooked",
    "links_changed",
    "booking_cancelled_by_mentee",
    "booking_cancelled_by_mentor",
}


def uid(booking: Booking) -> str:
    return calendar_feeds.booking_uid(booking.pk)


def _title(booking: Booking, *, for_mentor: bool) -> str:
    other = booking.mentee if for_mentor else booking.mentor.user
    return f"{booking.service.title} with {other}"


def _description(booking: Booking) -> str:
    lines = [f"Session page: {settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}"]
    if booking.service.in_person:
        lines[:0] = [f"In person: {booking.service.address}"] + (
            [f"Access: {booking.service.access_notes}"] if booking.service.access_notes else []
        )
    elif booking.meeting_link:
        lines.insert(0, f"Join: {booking.meeting_link}")
    if booking.message:
        lines.append(f"Topic: {booking.message}")
    return "\n".join(lines)


def _cancelled(booking: Booking) -> bool:
    return booking.status in (Booking.Status.CANCELLED, Booking.Status.DECLINED, Booking.Status.EXPIRED)


def booking_ics(booking: Booking, *, for_mentor: bool = False) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if _cancelled(booking) else "REQUEST")
    calendar.add_component(_event(booking, for_mentor=for_mentor))
    return calendar.to_ical()


def feed_ics(user, bookings) -> bytes:
    """A person's sessions (as mentee and as mentor) for a calendar subscription."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Mentorship sessions")
    for booking in bookings:
        calendar.add_component(_event(booking, for_mentor=booking.mentor.user_id == user.pk))
    return calendar.to_ical()


def _event(booking: Booking, *, for_mentor: bool) -> Event:
    cancelled = _cancelled(booking)
    event = Event()
    event.add("uid", uid(booking))
    event.add("sequence", booking.calendar_sequence)
    event.add("dtstamp", booking.updated_at.astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    event.add("summary", _title(booking, for_mentor=for_mentor))
    event.add("description", _description(booking))
    event.add("url", f"{settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}")
    if booking.service.in_person:
        event.add("location", booking.service.address)
    elif booking.meeting_link:
        event.add("location", booking.meeting_link)
    event.add(
        "status",
        "CANCELLED" if cancelled else ("CONFIRMED" if booking.status == Booking.Status.CONFIRMED else "TENTATIVE"),
    )
    # Each side's own address is always in its own file; the other side's only once it may be seen
    # (Booking.mentor_contact_shown / mentee_contact_shown): a held or pending invite names no address.
    if for_mentor or booking.mentor_contact_shown:
        organizer = vCalAddress(f"mailto:{booking.mentor.user.email}")
        organizer.params["cn"] = vText(str(booking.mentor.user))
        event["organizer"] = organizer
    if not for_mentor or booking.mentee_contact_shown:
        attendee = vCalAddress(f"mailto:{booking.mentee.email}")
        attendee.params["cn"] = vText(str(booking.mentee))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _title(booking, for_mentor=for_mentor))
        alarm.add("trigger", timedelta(minutes=-10))
        event.add_component(alarm)
    return event


def _stamp(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _location(booking: Booking) -> str:
    """Where the session happens, as calendars show it: the address, else the meeting link."""
    return booking.service.address if booking.service.in_person else booking.meeting_link


def google_url(booking: Booking, *, for_mentor: bool = False) -> str:
    """Google Calendar's "add event" page, filled in; times in UTC (the trailing Z)."""
    query = {
        "action": "TEMPLATE",
        "text": _title(booking, for_mentor=for_mentor),
        "dates": f"{_stamp(booking.start)}/{_stamp(booking.end)}",
        "details": _description(booking),
        "location": _location(booking),
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_url(booking: Booking, *, for_mentor: bool = False) -> str:
    """Outlook on the web's compose-event deep link, filled in; times in UTC (ISO 8601 with Z)."""
    query = {
        "subject": _title(booking, for_mentor=for_mentor),
        "startdt": booking.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": booking.end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": _description(booking),
        "location": _location(booking),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)


def ics_url(booking: Booking) -> str:
    """The booking's own .ics download (for Apple Calendar and any other app); it asks the party to sign in."""
    return f"{settings.SITE_URL}{reverse('booking_ics', args=[booking.pk])}"


def links(booking: Booking, *, for_mentor: bool = False) -> dict[str, str]:
    """The three add-to-calendar links, as pages and e-mails show them."""
    return {
        "google": google_url(booking, for_mentor=for_mentor),
        "outlook": outlook_url(booking, for_mentor=for_mentor),
        "apple": ics_url(booking),
    }


def write_back(booking_id: int) -> bool:
    """Keep the session in the mentor's own calendar (CalDAV write-back) as it is now: there while confirmed,
    updated when it moves (same UID as the invite), gone when cancelled. Safe to run twice."""
    booking = Booking.objects.select_related("mentor__user", "mentee", "service").get(pk=booking_id)
    if booking.status == Booking.Status.CONFIRMED:
        written = connected_calendars.write_session(booking.mentor_id, uid(booking), _stored_copy(booking))
        # Cancelled while we wrote (its own removal may have run first): take the copy out again.
        if written and Booking.objects.filter(pk=booking_id).values_list("status", flat=True).get() in (
            Booking.Status.CANCELLED,
            Booking.Status.NO_SHOW,
        ):
            connected_calendars.write_session(booking.mentor_id, uid(booking), None)
        return written
    if booking.status in (Booking.Status.CANCELLED, Booking.Status.NO_SHOW):
        return connected_calendars.write_session(booking.mentor_id, uid(booking), None)
    return False


def _stored_copy(booking: Booking) -> bytes:
    """The mentor's invite as a CalDAV server stores it: no METHOD (RFC 4791), and no organizer or attendees, so
    the server never sends invitations of its own (RFC 6638) to the mentee."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    event = _event(booking, for_mentor=True)
    for name in ("ORGANIZER", "ATTENDEE"):
        event.pop(name, None)
    calendar.add_component(event)
    return calendar.to_ical()
