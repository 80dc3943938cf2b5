from django.utils.functional import SimpleLazyObject

from . import selectors


def unread(request):
    """The header's counts for signed-in people (the bell, Messages) and the bounced-address banner, read only when
    a template shows them (base.html), so pages and fragments without them make no query. The bell's count and
    the banner come from one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    header = SimpleLazyObject(lambda: selectors.header_notices(user))
    return {
        "unread_notifications": SimpleLazyObject(lambda: header.unread),
        "unread_messages": SimpleLazyObject(lambda: selectors.unread_message_count(user)),
        "undeliverable_reason": SimpleLazyObject(lambda: header.undeliverable_reason),
    }
