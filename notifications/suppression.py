"""Addresses our notices are not e-mailed to: what the e-mail provider reported, and the owner's "It works now".

The provider's webhook (anymail's view, behind basic auth and, for Mailgun, a signature) sends anymail's
`tracking` signal, connected in NotificationsConfig.ready. A hard bounce, a spam complaint, or a refusal the
provider blames on the address itself records the address as undeliverable; soft bounces and delays change
nothing, since the provider tries those again. Only reports from the provider we send through (EMAIL_PROVIDER)
count: with none set, no report is legitimate, and the endpoints may not even ask for credentials.

What holds a notice back is `notifications.email.deliver`; the in-app notice always stays. allauth's own mails
(sign-in, confirmation, password reset) are never held back: a person fixing their address needs them.
"""

import logging
import re

from anymail.signals import EventType, RejectReason
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import UndeliverableAddress

log = logging.getLogger(__name__)

Reason = UndeliverableAddress.Reason
MAX_DESCRIPTION = UndeliverableAddress._meta.get_field("description").max_length
MAX_EMAIL = UndeliverableAddress._meta.get_field("email").max_length
# A refusal counts only when the provider blames the address (not, say, our account or the message's content).
ADDRESS_AT_FAULT = {RejectReason.INVALID, RejectReason.BOUNCED, RejectReason.SPAM, RejectReason.TIMED_OUT}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # a NUL also breaks PostgreSQL


def normalized(email: str) -> str:
    return email.strip().lower()


def is_undeliverable(email: str) -> bool:
    return bool(email) and UndeliverableAddress.objects.filter(email=normalized(email)).exists()


def address_suppress(*, email: str, reason: str, provider: str, description: str = "") -> UndeliverableAddress:
    """Stop e-mailing notices to `email`. Idempotent: a second report updates the one row (the latest reason)."""
    description = " ".join(CONTROL_CHARACTERS.sub(" ", description).split())
    address, _ = UndeliverableAddress.objects.update_or_create(
        email=normalized(email),
        defaults={"reason": reason, "provider": provider[:40], "description": description[:MAX_DESCRIPTION]},
    )
    log.info("Address %s marked undeliverable (%s, reported by %s)", address.pk, reason, provider)
    return address


def address_allow(*, user) -> bool:
    """The person says their current address works again: our notices go to it again. True if it was held back.

    Only their own current address, so nobody can lift another's. Notices held back meanwhile stay in the app
    and are not sent late."""
    deleted, _ = UndeliverableAddress.objects.filter(email=normalized(user.email)).delete()
    if deleted:
        log.info("User %s says their address works again", user.pk)
    return bool(deleted)


def _soft_bounce(event, esp_name: str) -> bool:
    """A bounce the provider calls temporary: it tries again itself, so the address is not given up.

    Anymail already reports Mailgun's temporary failures as "deferred"; these providers report some as "bounced"."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if esp_name == "Postmark":
        return raw.get("Type") == "SoftBounce"
    if esp_name in ("Brevo", "SendinBlue"):
        return raw.get("event") == "soft_bounce"
    if esp_name == "Amazon SES":
        return (raw.get("bounce") or {}).get("bounceType") != "Permanent"  # "Transient" or "Undetermined"
    if esp_name == "SendGrid":
        return raw.get("type") == "blocked"  # SendGrid's "bounce" events are "bounce" (hard) or "blocked" (soft)
    return False


def reason_for(event, esp_name: str) -> str | None:
    """Why this report makes its recipient undeliverable, or None when it doesn't."""
    if event.event_type == EventType.BOUNCED and not _soft_bounce(event, esp_name):
        return Reason.BOUNCED
    if event.event_type == EventType.COMPLAINED:
        return Reason.COMPLAINED
    if event.event_type == EventType.REJECTED and event.reject_reason in ADDRESS_AT_FAULT:
        return Reason.REJECTED
    return None


def _from_our_provider(esp_name: str) -> bool:
    return bool(settings.EMAIL_PROVIDER) and esp_name.lower().replace(" ", "_") == settings.EMAIL_PROVIDER


def provider_report_received(sender, event, esp_name: str, **kwargs) -> None:
    """anymail's `tracking` signal: one delivery report, already authenticated by anymail's webhook view.

    An exception here answers 500, and the provider sends the report again later: recording is idempotent."""
    reason = reason_for(event, esp_name)
    if reason is None:
        return
    if not _from_our_provider(esp_name):
        log.warning("Ignored a %s report from %s, which we don't send through", event.event_type, esp_name)
        return
    recipient = event.recipient if isinstance(event.recipient, str) else ""
    try:
        if len(recipient) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(recipient)
    except ValidationError:
        log.warning("Ignored a %s report from %s without a usable recipient", event.event_type, esp_name)
        return
    address_suppress(
        email=recipient,
        reason=reason,
        provider=esp_name,
        description=str(event.description or event.mta_response or ""),
    )
