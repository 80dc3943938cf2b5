"""Seal every calendar address again under the first of CALENDAR_SECRET_KEYS (after putting a new key first);
then the old key can leave the list."""

from django.core.management.base import BaseCommand

from mentorship import sealed
from mentorship.models import ConnectedCalendar


class Command(BaseCommand):
    help = "Seal connected calendars' addresses again under the first CALENDAR_SECRET_KEYS key."

    def handle(self, *args, **options):
        done = unreadable = 0
        for calendar in ConnectedCalendar.objects.only("pk", "sealed_address").iterator():
            try:
                resealed = sealed.reseal(calendar.sealed_address)
            except Exception:  # sealed under a key no longer listed: the mentor connects it again
                unreadable += 1
                continue
            ConnectedCalendar.objects.filter(pk=calendar.pk, sealed_address=calendar.sealed_address).update(
                sealed_address=resealed
            )
            done += 1
        self.stdout.write(f"{done} resealed, {unreadable} unreadable (sealed under a key no longer listed).")
