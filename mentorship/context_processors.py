from django.conf import settings


def site(request):
    """What every page needs: the viewer's zone, test-mode payment hints and the user's mentor profile."""
    user = getattr(request, "user", None)
    return {
        "viewer_zone": getattr(request, "viewer_zone", "UTC"),
        "viewer_zone_known": getattr(request, "viewer_zone_known", True),
        "payments_test_mode": settings.STRIPE_SECRET_KEY.startswith("sk_test_"),
        "mentor_profile": getattr(user, "mentor_profile", None) if user and user.is_authenticated else None,
    }
