"""Notifications' part of a person's data rights (mentorship.data_rights): their conversations and notices
in the copy; on deletion their notices, e-mail choices and calendar feed go. Messages they sent stay in the
other person's conversation, signed "Former member": that history is the other person's too."""

from allauth.account.models import EmailAddress
from django.db.models import Q

from mentorship import data_rights

from . import suppression
from .models import CalendarFeed, Conversation, Notification, Preferences, UndeliverableAddress


@data_rights.exports("messages")
def _messages(user) -> list[dict]:
    conversations = (
        Conversation.objects.filter(Q(mentee=user) | Q(mentor__user=user))
        .select_related("mentee", "mentor__user")
        .prefetch_related("messages")
    )
    return [
        {
            "with": conversation.mentor.user.display_name
            if conversation.mentee_id == user.pk
            else conversation.mentee.display_name,
            "messages": [
                {
                    "from": "you" if message.sender_id == user.pk else "them",
                    "at": data_rights.iso(message.created_at),
                    "booking": message.booking_id,
                    "text": message.body,
                }
                for message in conversation.messages.all()
            ],
        }
        for conversation in conversations
    ]


@data_rights.exports("notices")
def _notices(user) -> list[dict]:
    return [
        {
            "at": data_rights.iso(notice.created_at),
            "kind": notice.kind,
            "subject": notice.subject,
            "text": notice.body,
            "email": notice.email_status,
            "read": notice.read_at is not None,
        }
        for notice in Notification.objects.filter(user=user).order_by("created_at")
    ]


@data_rights.erases
def _erase_notices(user) -> None:
    Notification.objects.filter(user=user).delete()
    Preferences.objects.filter(user=user).delete()
    CalendarFeed.objects.filter(user=user).delete()  # the secret address stops answering
    addresses = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    UndeliverableAddress.objects.filter(email__in=[suppression.normalized(a) for a in addresses]).delete()
