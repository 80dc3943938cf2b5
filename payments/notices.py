"""Notices from payments to people: every payments → notifications hand-off goes through `tell`."""

from django.contrib.auth import get_user_model

from mentorship import outbox


def tell(user_id: int, *, kind: str, key: str, subject: str, body: str, link: str = "") -> None:
    """Record a notice for a user in the current transaction; notifications stores it (and e-mails it if they
    want that) after commit, through the outbox.

    `key` is unique across all notices: name the event and the user in it, so a retry tells once.
    """
    outbox.record("user.notice", user_id=user_id, kind=kind, key=key, subject=subject, body=body, link=link)


def tell_staff(*, kind: str, key: str, subject: str, body: str, link: str = "") -> None:
    """Every active staff member hears of something a person must look at; `key` names the event."""
    for staff_id in get_user_model().objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True):
        tell(staff_id, kind=kind, key=f"{key}-user-{staff_id}", subject=subject, body=body, link=link)
