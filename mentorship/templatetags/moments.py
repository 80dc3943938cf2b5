from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(moment) -> str:
    """ "just now" under a minute, else "3 minutes ago" (Django's timesince would say "0 minutes")."""
    if moment is None:
        return ""
    if timezone.now() - moment < timezone.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
