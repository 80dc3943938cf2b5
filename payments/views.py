"""Checkout, the Stripe webhook and the mentor's Earnings page."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings.models import Booking
from mentorship.money import format_cents
from mentorship.views import approved_mentor_required

from . import gateway, ledger, payouts, services, webhooks
from .models import ConnectedAccount, LedgerEntry, Payment

log = logging.getLogger(__name__)

PAID_MESSAGE = "Payment received. Your session is pending until {mentor} confirms it; we'll e-mail you."


def _own_booking(request, booking_id: int) -> Booking:
    booking = (
        Booking.objects.select_related("service", "mentor__user").filter(pk=booking_id, mentee=request.user).first()
    )
    if booking is None:
        raise Http404("No such booking.")
    return booking


def _leave_checkout(request, booking: Booking, error: services.CheckoutError):
    messages.error(request, str(error))
    if error.hold_lost:
        return redirect(f"{reverse('mentor_profile', args=[booking.mentor_id])}?service={booking.service_id}")
    return redirect("booking_detail", booking_id=booking.pk)


def _render_checkout(request, booking: Booking, *, client_secret: str = "", action_secret: str = "", error: str = ""):
    return render(
        request,
        "payments/checkout.html",
        {
            "booking": booking,
            "client_secret": client_secret,
            "action_secret": action_secret,
            "error": error,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "test_mode": gateway.is_test_mode(),
            "saved_card": services.saved_card(request.user),
        },
        status=400 if error else 200,
    )


@login_required
def checkout(request, booking_id: int):
    booking = _own_booking(request, booking_id)
    try:
        client_secret = services.checkout_setup(booking_id=booking.pk, mentee=request.user)
    except services.CheckoutError as error:
        if error.hold_lost or booking.status != Booking.Status.HELD:
            return _leave_checkout(request, booking, error)
        return _render_checkout(request, booking, error=str(error))  # Stripe unreachable: say so, keep the hold
    return _render_checkout(request, booking, client_secret=client_secret)


@login_required
@require_POST
def pay(request, booking_id: int):
    booking = _own_booking(request, booking_id)
    payment_method_id = request.POST.get("payment_method", "")
    if request.POST.get("use_saved_card"):
        saved = services.saved_card(request.user)
        payment_method_id = saved.saved_payment_method_id if saved else ""
    if not payment_method_id.startswith("pm_"):
        messages.error(request, "Enter your card details, then press Pay.")
        return redirect("checkout", booking_id=booking.pk)
    try:
        payment = services.checkout_pay(booking_id=booking.pk, mentee=request.user, payment_method_id=payment_method_id)
    except services.CheckoutError as error:
        return _payment_refused(request, booking, error)
    return _after_payment(request, booking, payment)


@login_required
@require_POST
def authenticated(request, booking_id: int):
    """The page finished 3-D Secure: re-check the payment with Stripe."""
    booking = _own_booking(request, booking_id)
    try:
        payment = services.checkout_after_authentication(booking_id=booking.pk, mentee=request.user)
    except services.CheckoutError as error:
        return _payment_refused(request, booking, error)
    return _after_payment(request, booking, payment)


def _payment_refused(request, booking: Booking, error: services.CheckoutError):
    """Declined or not authenticated: show why on the checkout and keep the hold for another card."""
    if error.hold_lost or booking.status != Booking.Status.HELD:
        return _leave_checkout(request, booking, error)
    try:
        client_secret = services.checkout_setup(booking_id=booking.pk, mentee=request.user)
    except services.CheckoutError as lost:
        return _leave_checkout(request, booking, lost)
    return _render_checkout(request, booking, client_secret=client_secret, error=str(error))


def _after_payment(request, booking: Booking, payment: Payment):
    if payment.status == Payment.Status.REQUIRES_ACTION:
        try:
            return _render_checkout(request, booking, action_secret=services.authentication_secret(payment))
        except services.CheckoutError as error:
            return _payment_refused(request, booking, error)
    booking.refresh_from_db()
    if booking.status == Booking.Status.PENDING:
        messages.success(request, PAID_MESSAGE.format(mentor=booking.mentor.user))
    else:
        messages.error(
            request, "This time was just taken — please pick another. Your payment is being refunded in full."
        )
    return redirect("booking_detail", booking_id=booking.pk)


@login_required
@require_POST
def grant_refund(request, booking_id: int):
    try:
        amount_cents = int(round(float(request.POST.get("amount", "")) * 100))
    except ValueError:
        amount_cents = 0
    try:
        refund = services.refund_grant(booking_id=booking_id, actor=request.user, amount_cents=amount_cents)
    except Booking.DoesNotExist:
        raise Http404("No such booking.") from None
    except services.CheckoutError as error:
        messages.error(request, str(error))
    except services.RefundFailed:
        messages.warning(request, "Stripe did not take the refund yet; we'll keep trying and tell you.")
    else:
        amount = format_cents(refund.amount_cents, refund.payment.currency)
        messages.success(request, f"Refunded {amount}. It reaches the card in 5–10 business days.")
    return redirect("booking_detail", booking_id=booking_id)


@login_required
def receipt(request, payment_id: int):
    """A printable receipt for one payment: for the mentee who paid (and staff)."""
    payment = (
        Payment.objects.select_related("booking__service", "booking__mentor__user", "booking__mentee")
        .filter(pk=payment_id, status=Payment.Status.SUCCEEDED)
        .first()
    )
    if payment is None or not (payment.booking.mentee_id == request.user.pk or request.user.is_staff):
        raise Http404("No such receipt.")
    refunds = payment.refunds.exclude(status="failed").order_by("created_at")
    refunded = sum(r.amount_cents for r in refunds)
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "booking": payment.booking,
            "refunds": refunds,
            "net_cents": payment.amount_cents - refunded,
        },
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not webhooks.receive(request.body, request.headers.get("Stripe-Signature", "")):
        return HttpResponseBadRequest("Invalid signature")
    return HttpResponse("ok")


@approved_mentor_required
def earnings(request, profile):
    entries = (
        LedgerEntry.objects.filter(mentor=profile, account=LedgerEntry.Account.MENTOR)
        .exclude(kind__in=[LedgerEntry.Kind.PAYOUT, LedgerEntry.Kind.PAYOUT_RETURNED])
        .select_related("booking__service", "booking__mentee")
    )
    return render(
        request,
        "payments/earnings.html",
        {
            **ledger.summary(profile),
            "entries": entries,
            "payouts": profile.payouts.all()[:50],
            "account": ConnectedAccount.objects.filter(mentor=profile).first(),
            "fee_percent": settings.PLATFORM_FEE_PERCENT,
            "payout_minimum_cents": settings.PAYOUT_MINIMUM_CENTS,
        },
    )


@approved_mentor_required
@require_POST
def connect_stripe(request, profile):
    return _to_onboarding(request, profile)


@approved_mentor_required
def connect_stripe_refresh(request, profile):
    """Stripe sends mentors here when an onboarding link has expired: make a fresh one."""
    return _to_onboarding(request, profile)


def _to_onboarding(request, profile):
    try:
        url = payouts.connect_start(
            profile,
            return_url=request.build_absolute_uri(reverse("connect_stripe_return")),
            refresh_url=request.build_absolute_uri(reverse("connect_stripe_refresh")),
        )
    except gateway.GatewayError as error:
        messages.error(request, str(error))
        return redirect("earnings")
    return redirect(url)


@approved_mentor_required
def connect_stripe_return(request, profile):
    try:
        account = payouts.connect_refresh(profile)
    except gateway.GatewayError as error:
        messages.error(request, str(error))
        return redirect("earnings")
    if account is not None and account.payouts_enabled:
        messages.success(request, "Your Stripe account is connected. Payouts will go there.")
    else:
        messages.warning(request, "Stripe still needs some details from you before payouts can start.")
    return redirect("earnings")
