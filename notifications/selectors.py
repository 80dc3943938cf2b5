"""Reads about notifications."""

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from bookings.models import Booking, BookingEvent

from . import suppression
from .models import Conversation, Message, Notification, UndeliverableAddress


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


class HeaderNotices(NamedTuple):
    unread: int  # the bell's count
    undeliverable_reason: str  # why e-mail to the person's address stopped (UndeliverableAddress.Reason); "" if not


def header_notices(user) -> HeaderNotices:
    """What every signed-in page's header tells (base.html): the bell's count, and whether the provider reported the
    person's current address undeliverable (the banner), in the one query the bell alone used to cost."""
    unread = (
        Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    address = suppression.normalized(user.email)
    reason = UndeliverableAddress.objects.filter(email=address).order_by().values("reason")[:1]  # email is unique
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(Coalesce(Subquery(unread), 0), Coalesce(Subquery(reason), Value("")))
        .first()
    )
    return HeaderNotices(*row) if row else HeaderNotices(0, "")


def recent(user):
    """A person's notices, newest first, with what the list shows under each (a declined request's reason) read
    in the same query. Paged by the view."""
    declined = Booking.Status.DECLINED
    reason = BookingEvent.objects.filter(booking=OuterRef("booking"), to_status=declined).exclude(from_status=declined)
    return (
        Notification.objects.filter(user=user)
        .select_related("booking__service", "booking__mentor__user")
        .annotate(decline_note=Subquery(reason.order_by("-created_at", "-pk").values("note")[:1]))
        .order_by("-created_at", "-pk")
    )


def link_of(user, notification_id: int) -> str:
    """Where a person's own notification points; nothing for someone else's id."""
    return Notification.objects.filter(user=user, pk=notification_id).values_list("link", flat=True).first() or ""


def _unread_messages(user):
    """Messages to `user` they have not read yet, across their conversations (as mentee and as mentor)."""
    return Message.objects.filter(
        Q(conversation__mentee=user, created_at__gt=F("conversation__mentee_read_at"))
        | Q(conversation__mentor__user=user, created_at__gt=F("conversation__mentor_read_at"))
    ).exclude(sender=user)


def unread_message_count(user) -> int:
    return _unread_messages(user).count()


def conversations_of(user):
    """The person's conversations, newest first, each with `unread` and `last_body`."""
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    unread = (
        _unread_messages(user)
        .filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Conversation.objects.filter(Q(mentee=user) | Q(mentor__user=user), last_message_at__isnull=False)
        .select_related("mentee", "mentor__user")
        .annotate(last_body=Subquery(last.values("body")[:1]), unread=Coalesce(Subquery(unread), 0))
        .order_by("-last_message_at")
    )


def conversation_for_party(user, conversation_id: int) -> Conversation | None:
    """The conversation if `user` is in it, else None: other people's ids show nothing."""
    conversation = Conversation.objects.select_related("mentee", "mentor__user").filter(pk=conversation_id).first()
    if conversation is None or conversation.side_of(user) is None:
        return None
    return conversation


def conversation_between(mentee, mentor) -> Conversation | None:
    return Conversation.objects.select_related("mentee", "mentor__user").filter(mentee=mentee, mentor=mentor).first()


def messages_in(conversation: Conversation):
    return conversation.messages.select_related("sender", "booking__service")
