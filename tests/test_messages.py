"""Messages between mentees and mentors: sending, reading, throttled e-mails, refusing secrets, staff access."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings import screening
from bookings import services as booking_services
from notifications import conversations
from notifications.models import Conversation, Message, Notification

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "text",
    [
        "my card is 4242 4242 4242 4242, can you charge it?",
        "4000-0566-5566-5556",
        "amex 378282246310005 exp 12/30",
        "IBAN: DE89 3704 0044 0532 0130 00",
        "my password is hunter2",
        "Password: correct horse",
        "the PIN is 1234",
    ],
)
def test_card_numbers_bank_accounts_and_passwords_are_refused(text):
    assert screening.refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call me at +1 555 123 4567 if the link fails",
        "Order 4242 4242 4242 4241 is not a card (fails the Luhn check)",
        "Let's meet 2026-11-24 at 10:30",
        "The password is hashed with argon2 in our app",
        "Room 1234, building 5678",
    ],
)
def test_ordinary_messages_go_through(text):
    assert screening.refusal(text) is None


def test_a_mentee_writes_from_the_profile_and_the_mentor_reads_and_answers(client):
    mentor = bookable_mentor()
    mentee = UserFactory(display_name="Mia Mentee")
    client.force_login(mentee)
    compose = client.get(reverse("message_mentor", args=[mentor.pk]))
    assert "No messages yet" in compose.content.decode()
    assert not Conversation.objects.exists()  # opening the page stores nothing
    response = client.post(reverse("message_mentor", args=[mentor.pk]), {"body": "Hi! Can we talk about Django?"})
    conversation = Conversation.objects.get()
    assert response.url == reverse("conversation", args=[conversation.pk])
    (email,) = mail.outbox
    assert email.to == [mentor.user.email] and email.subject == "New message from Mia Mentee"
    assert "Can we talk about Django?" in email.body and reverse("conversation", args=[conversation.pk]) in email.body
    html, _ = email.alternatives[0]
    assert "Can we talk about Django?" in html and "Choose which e-mails you get" in html

    client.force_login(mentor.user)
    assert 'aria-label="Messages, 1 unread"' in client.get(reverse("conversations")).content.decode()
    # From the profile again, the mentee lands in the same conversation.
    page = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "Can we talk about Django?" in page
    assert 'aria-label="Messages, 0 unread"' in client.get(reverse("conversations")).content.decode()
    client.post(reverse("conversation", args=[conversation.pk]), {"body": "Sure, book the intro."})
    assert mail.outbox[-1].to == [mentee.email]
    client.force_login(mentee)
    assert client.get(reverse("message_mentor", args=[mentor.pk])).url == reverse(
        "conversation", args=[conversation.pk]
    )


def test_a_card_number_is_refused_with_an_explanation_and_nothing_is_stored(client):
    mentor = bookable_mentor()
    client.force_login(UserFactory())
    response = client.post(reverse("message_mentor", args=[mentor.pk]), {"body": "Pay with 4242 4242 4242 4242"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "looks like it contains a card number" in page
    assert "4242 4242 4242 4242" in page  # kept in the box to edit
    assert not Message.objects.exists() and not mail.outbox


def test_new_message_e_mails_are_throttled_per_conversation():
    mentor = bookable_mentor()
    mentee = UserFactory()
    for text in ["one", "two", "three"]:
        conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body=text)
    assert len(mail.outbox) == 1  # one e-mail for a burst
    assert Notification.objects.filter(user=mentor.user, kind="new_message").count() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="four")
    assert len(mail.outbox) == 2


def test_the_new_message_notice_runs_twice_and_sends_once():
    mentor = bookable_mentor()
    mentee = UserFactory()
    message = conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="hello")
    conversations.message_notify(message.pk)
    conversations.message_notify(message.pk)
    assert len(mail.outbox) == 1


def test_no_e_mail_when_the_message_was_read_before_the_job_ran():
    mentor = bookable_mentor()
    mentee = UserFactory()
    with transaction.atomic():  # the job runs on commit; the mentor reads it first
        message = conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="hello")
        conversations.conversation_mark_read(Conversation.objects.get(pk=message.conversation_id), mentor.user)
    assert not mail.outbox


def test_people_outside_a_conversation_see_nothing_and_mentors_write_only_to_their_mentees(client):
    mentor = bookable_mentor()
    mentee = UserFactory()
    message = conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="hello")
    client.force_login(UserFactory())
    assert client.get(reverse("conversation", args=[message.conversation_id])).status_code == 404
    assert client.post(reverse("conversation", args=[message.conversation_id]), {"body": "hi"}).status_code == 404
    with pytest.raises(conversations.MessageError):  # a mentor may not cold-message someone who never booked
        conversations.message_send(sender=mentor.user, mentee=UserFactory(), mentor=mentor, body="Buy my course")
    with pytest.raises(conversations.MessageError):  # nor anyone write into someone else's conversation
        conversations.message_send(sender=UserFactory(), mentee=mentee, mentor=mentor, body="hi")
    assert Message.objects.count() == 1


@pytest.mark.stripe
def test_both_sides_write_from_a_booking_and_staff_read_it_on_the_ticket(client, admin_client, stripe_server):
    from .test_lifecycle import booked

    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    client.force_login(mentor.user)
    response = client.post(reverse("message_about_booking", args=[booking.pk]), {"body": "Please bring your CV."})
    assert response.status_code == 302
    client.force_login(booking.mentee)
    page = client.get(reverse("message_about_booking", args=[booking.pk]), follow=True).content.decode()
    assert "Please bring your CV." in page and f"about {booking.service.title}" in page
    with time_machine.travel(booking.start + timedelta(minutes=15)):
        ticket = booking_services.no_show_report(booking.pk, actor=booking.mentee, note="They never came")
    page = admin_client.get(reverse("admin:bookings_supportticket_change", args=[ticket.pk])).content.decode()
    assert "Please bring your CV." in page
