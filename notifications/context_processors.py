from . import selectors


def unread(request):
    """The bell's and the Messages link's counts on every page, for signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": selectors.unread_count(user),
        "unread_messages": selectors.unread_message_count(user),
    }
