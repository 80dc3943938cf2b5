"""Messages between mentees and mentors: the inbox, a conversation, and writing a first message."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from bookings import selectors as booking_selectors
from mentorship.input_rules import BoundedForm
from mentorship.models import MentorProfile
from mentorship.rate_limits import rate_limited

from . import conversations, selectors
from .conversations import MessageError


class MessageForm(BoundedForm, forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=conversations.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a message first."},
    )


@login_required
def conversation_list(request):
    return render(
        request, "notifications/conversations.html", {"conversations": selectors.conversations_of(request.user)}
    )


@login_required
@rate_limited("message")
def conversation(request, conversation_id: int):
    found = selectors.conversation_for_party(request.user, conversation_id)
    if found is None:
        raise Http404("No such conversation.")
    return _thread(request, mentee=found.mentee, mentor=found.mentor, conversation=found)


@login_required
@rate_limited("message")
def message_mentor(request, mentor_id: int):
    """A mentee writes to a mentor from the profile; an existing conversation simply opens."""
    mentor = get_object_or_404(MentorProfile.objects.select_related("user"), pk=mentor_id, status="approved")
    if mentor.user_id == request.user.pk:
        messages.info(request, "That's your own profile.")
        return redirect("conversations")
    return _thread(request, mentee=request.user, mentor=mentor)


@login_required
@rate_limited("message")
def message_about_booking(request, booking_id: int):
    """Either side writes from a booking's page."""
    booking = booking_selectors.booking_for_party(request.user, booking_id)
    if booking is None or not booking.is_party(request.user):
        raise Http404("No such booking.")
    return _thread(request, mentee=booking.mentee, mentor=booking.mentor, booking=booking)


def _thread(request, *, mentee, mentor, conversation=None, booking=None):
    conversation = conversation or selectors.conversation_between(mentee, mentor)
    if conversation is not None and request.method == "GET" and request.path != _url(conversation):
        return redirect(_url(conversation))  # one address per conversation
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = conversations.message_send(
                sender=request.user, mentee=mentee, mentor=mentor, body=form.cleaned_data["body"], booking=booking
            )
        except MessageError as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, "Message sent.")
            return redirect(_url(sent.conversation))
    other = mentor.user if request.user.pk == mentee.pk else mentee
    if conversation is not None and request.method == "GET":
        conversations.conversation_mark_read(conversation, request.user)
    context = {
        "conversation": conversation,
        "thread": selectors.messages_in(conversation) if conversation else [],
        "other": other,
        "mentor": mentor,
        "form": form,
    }
    return render(request, "notifications/conversation.html", context, status=400 if form.errors else 200)


def _url(conversation) -> str:
    return reverse("conversation", args=[conversation.pk])
