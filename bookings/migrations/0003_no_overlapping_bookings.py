"""In PostgreSQL, make overlapping blocking bookings of one mentor impossible.

An exclusion constraint over the booked time widened by buffers, for the statuses
that take time (held, pending, confirmed). Other databases rely on the per-mentor
row lock that every booking path takes.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "bookings_no_overlap_per_mentor"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        ALTER TABLE bookings_booking ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            mentor_id WITH =,
            tstzrange(blocked_start, blocked_end, '[)') WITH &&
        ) WHERE (status IN ('held', 'pending', 'confirmed'))
        """
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint, elidable=False),
    ]
