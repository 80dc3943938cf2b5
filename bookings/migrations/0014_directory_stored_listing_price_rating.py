"""Fill the mentors' stored rating (average and number of visible reviews) that the directory sorts on."""

from decimal import ROUND_DOWN, Decimal

from django.db import migrations
from django.db.models import Count, Sum

PLACES = Decimal("0.000001")


def fill_ratings(apps, schema_editor):
    # The same as bookings.reviews.refresh_rating() at the time of writing, for every reviewed mentor at once.
    MentorProfile = apps.get_model("mentorship", "MentorProfile")
    Review = apps.get_model("bookings", "Review")
    rows = Review.objects.filter(hidden_at__isnull=True).values("mentor").annotate(total=Sum("rating"), n=Count("pk"))
    changed = []
    for row in rows.order_by("mentor"):
        average = (Decimal(row["total"]) / row["n"]).quantize(PLACES, rounding=ROUND_DOWN)
        changed.append(MentorProfile(pk=row["mentor"], rating_average=average, rating_count=row["n"]))
    MentorProfile.objects.bulk_update(changed, ["rating_average", "rating_count"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0013_list_and_admin_indexes"),
        ("mentorship", "0012_directory_stored_listing_price_rating"),
    ]

    operations = [migrations.RunPython(fill_ratings, migrations.RunPython.noop, elidable=False)]
