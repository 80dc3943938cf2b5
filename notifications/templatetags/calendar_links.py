from django import template

from .. import calendar

register = template.Library()


@register.inclusion_tag("notifications/_calendar_links.html")
def calendar_links(booking, user):
    for_mentor = booking.mentor.user_id == user.pk
    return {
        "booking": booking,
        "google": calendar.google_url(booking, for_mentor=for_mentor),
        "outlook": calendar.outlook_url(booking, for_mentor=for_mentor),
    }
