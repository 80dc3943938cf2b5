"""Notices from payments to people: every payments → notifications call goes through `tell`."""

from django.db import transaction


def tell(user_id: int, *, kind: str, key: str, subject: str, body: str, link: str = "") -> None:
    """Store a notice for a user (and e-mail it if they want that) once the current transaction commits.

    `key` is unique across all notices: name the event and the user in it, so a retry tells once.
    """
    # Until the outbox lands, a direct hand-off to the notifications task.
    from notifications import tasks

    transaction.on_commit(lambda: tasks.send_notification.delay(user_id, kind, key, subject, body, link))
