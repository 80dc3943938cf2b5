from django.conf import settings
from django.utils.functional import SimpleLazyObject


def site(request):
    """What every page needs: the viewer's zone, test-mode payment hints and the user's mentor profile.

    The mentor profile is a query: read only when a template uses it (a redirect or a page without the
    menu makes none).
    """
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "viewer_zone": getattr(request, "viewer_zone", "UTC"),
        "viewer_zone_known": getattr(request, "viewer_zone_known", True),
        "payments_test_mode": settings.STRIPE_SECRET_KEY.startswith("sk_test_"),
        "mentor_profile": SimpleLazyObject(lambda: getattr(user, "mentor_profile", None)) if signed_in else None,
    }
