"""Messages between a mentee and a mentor: the writes.

A mentee may write to any approved mentor (from the profile); a mentor may write to
someone who has booked them (from the booking). Messages that look like they carry a
card number, bank account or password are refused before anything is stored. The
other side hears about new messages in the app and by e-mail, at most once per
conversation every MESSAGE_EMAIL_INTERVAL.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bookings import screening
from bookings.models import Booking
from mentorship import outbox
from mentorship.models import MentorProfile

from .models import Conversation, Message, Notification
from .services import notify

MAX_LENGTH = 4000


class MessageError(Exception):
    """A message that cannot be sent; the text is meant for the sender."""


def _open(mentee, mentor: MentorProfile) -> Conversation:
    now = timezone.now()
    try:
        with transaction.atomic():
            conversation, _ = Conversation.objects.get_or_create(
                mentee=mentee, mentor=mentor, defaults={"mentee_read_at": now, "mentor_read_at": now}
            )
    except IntegrityError:  # the other tab made it a moment ago
        conversation = Conversation.objects.get(mentee=mentee, mentor=mentor)
    return conversation


def _may_write(sender, mentee, mentor: MentorProfile) -> bool:
    """Mentees may start a conversation with any approved mentor; mentors only with people who booked them."""
    if mentee.pk == mentor.user_id or sender.pk not in (mentee.pk, mentor.user_id):
        return False
    if Conversation.objects.filter(mentee=mentee, mentor=mentor).exists():
        return True
    if sender.pk == mentee.pk:
        return mentor.is_approved
    return Booking.objects.filter(mentee=mentee, mentor=mentor).exclude(status=Booking.Status.HELD).exists()


def message_send(*, sender, mentee, mentor: MentorProfile, body: str, booking: Booking | None = None) -> Message:
    body = body.strip()
    if not body:
        raise MessageError("Write a message first.")
    if len(body) > MAX_LENGTH:
        raise MessageError(f"Keep messages under {MAX_LENGTH} characters.")
    if reason := screening.refusal(body):
        raise MessageError(reason)
    if not _may_write(sender, mentee, mentor):
        raise MessageError("You can't send messages in this conversation.")
    conversation = _open(mentee, mentor)
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(conversation=conversation, sender=sender, body=body, booking=booking)
        side = "mentee" if sender.pk == mentee.pk else "mentor"
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, **{f"{side}_read_at": now})
        outbox.record("message.sent", message_id=message.pk)
    return message


def conversation_mark_read(conversation: Conversation, user) -> None:
    """The person has seen the conversation: its messages and its notices in the bell are read."""
    side = conversation.side_of(user)
    if side:
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(**{f"{side}_read_at": now})
        Notification.objects.filter(
            user=user, kind="new_message", link=reverse("conversation", args=[conversation.pk]), read_at__isnull=True
        ).update(read_at=now)


def message_notify(message_id: int):
    """Tell the other side about a new message, unless they were told about this conversation lately."""
    message = Message.objects.select_related("conversation__mentor__user", "conversation__mentee", "sender").get(
        pk=message_id
    )
    conversation = message.conversation
    to_mentor = message.sender_id == conversation.mentee_id
    recipient = conversation.mentor.user if to_mentor else conversation.mentee
    side = "mentor" if to_mentor else "mentee"
    now = timezone.now()
    if getattr(conversation, f"{side}_read_at") >= message.created_at:
        return None  # already read in the app
    quiet_since = now - settings.MESSAGE_EMAIL_INTERVAL
    emailed = f"{side}_emailed_at"
    with transaction.atomic():  # the throttle's claim and the notice commit together, or neither does
        claimed = Conversation.objects.filter(
            Q(**{f"{emailed}__isnull": True}) | Q(**{f"{emailed}__lt": quiet_since}), pk=conversation.pk
        ).update(**{emailed: now})
        if not claimed:
            return None  # throttled: the unread count shows it, and the last e-mail is recent
        return notify(
            recipient,
            kind="new_message",
            key=f"message-{message.pk}-user-{recipient.pk}",
            subject=f"New message from {message.sender}",
            body=f"Hi {recipient},\n\n{message.sender} sent you a message:\n\n{message.body}\n\nReply on Mentorship.",
            link=reverse("conversation", args=[conversation.pk]),
        )
