from django.utils.functional import SimpleLazyObject

from . import selectors


def unread(request):
    """The bell's and the Messages link's counts for signed-in people, counted only when a template shows them
    (the menu in base.html), so pages and fragments without it make no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(lambda: selectors.unread_count(user)),
        "unread_messages": SimpleLazyObject(lambda: selectors.unread_message_count(user)),
    }
