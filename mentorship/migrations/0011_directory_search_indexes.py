"""Indexes for the directory at any size: full-text search (PostgreSQL only; SQLite searches with LIKE)
and open session types by price."""

from django.db import migrations, models

# The expressions match bookings.directory's SearchVector(..., config="simple") exactly, or PostgreSQL ignores them.
SEARCH_INDEXES = {
    "mentorship_profile_search": (
        "mentorship_mentorprofile",
        "to_tsvector('simple'::regconfig, COALESCE(headline, '') || ' ' || COALESCE(expertise, ''))",
    ),
    "mentorship_user_name_search": ("mentorship_user", "to_tsvector('simple'::regconfig, COALESCE(display_name, ''))"),
}


def add_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in SEARCH_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("mentorship", "0010_outbox_done_index")]

    operations = [
        migrations.RunPython(add_search_indexes, drop_search_indexes, elidable=False),
        migrations.AddIndex(
            model_name="service",
            index=models.Index(fields=["mentor", "is_active", "price_cents"], name="service_open_by_price"),
        ),
    ]
