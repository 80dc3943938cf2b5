"""Checkout, the Stripe webhook and the mentor's Earnings page."""

import logging
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings import packages
from bookings.models import Booking, PackagePurchase
from bookings.views import party_only, section_pages
from mentorship import table_versions
from mentorship.money import format_cents
from mentorship.page_cache import viewer_page
from mentorship.rate_limits import rate_limited
from mentorship.views import approved_mentor_required

from . import gateway, ledger, payouts, services, webhooks
from .content_policy import with_stripe_connect, with_stripe_js
from .forms import ENTER_CARD, PayForm, RefundGrantForm
from .models import ConnectedAccount, Payment

log = logging.getLogger(__name__)

EARNINGS_PAGE_SIZE = 20

PAID_MESSAGE = "Payment received. Your session is pending until {mentor} confirms it; we'll e-mail you."
PACKAGE_PAID_MESSAGE = "Payment received. Your package {package} is ready: book sessions with its credits."


@dataclass
class Target:
    """What a checkout pays for: a held booking or a package purchase. Both go through the same card flow."""

    booking: Booking | None = None
    purchase: PackagePurchase | None = None

    @property
    def ids(self) -> dict:
        return {"booking_id": self.booking.pk} if self.booking else {"purchase_id": self.purchase.pk}

    @property
    def payable(self) -> bool:
        if self.booking:
            return self.booking.status == Booking.Status.HELD
        return self.purchase.status == PackagePurchase.Status.AWAITING_PAYMENT

    def url(self, step: str) -> str:
        """The checkout page ("checkout"), its pay action ("pay") or the 3-D Secure return ("authenticated")."""
        if self.booking:
            names = {"checkout": "checkout", "pay": "checkout_pay", "authenticated": "checkout_authenticated"}
            return reverse(names[step], args=[self.booking.pk])
        names = {"checkout": "package_checkout", "pay": "package_pay", "authenticated": "package_authenticated"}
        return reverse(names[step], args=[self.purchase.pk])

    def mentor_id(self) -> int:
        return (self.booking or self.purchase).mentor_id

    def service_id(self) -> int:
        return (self.booking or self.purchase).service_id

    def refresh(self) -> None:
        (self.booking or self.purchase).refresh_from_db()


def _own_booking(request, booking_id: int) -> Target:
    booking = (
        Booking.objects.select_related("service", "mentor__user").filter(pk=booking_id, mentee=request.user).first()
    )
    if booking is None:
        raise Http404("No such booking.")
    return Target(booking=booking)


def _own_purchase(request, purchase_id: int) -> Target:
    purchase = (
        PackagePurchase.objects.select_related("service", "mentor__user", "package")
        .filter(pk=purchase_id, mentee=request.user)
        .first()
    )
    if purchase is None:
        raise Http404("No such package purchase.")
    return Target(purchase=purchase)


def _leave_checkout(request, target: Target, error: services.CheckoutError):
    messages.error(request, str(error))
    if error.hold_lost:
        return redirect(f"{reverse('mentor_profile', args=[target.mentor_id()])}?service={target.service_id()}")
    if target.purchase:
        return redirect("my_packages")
    return redirect("booking_detail", booking_id=target.booking.pk)


def _render_checkout(request, target: Target, *, client_secret: str = "", action_secret: str = "", error: str = ""):
    paid_for = target.booking or target.purchase
    credits = (
        packages.usable_purchases(request.user, target.booking.service, start=target.booking.start)
        if target.booking
        else []
    )
    return render(
        request,
        "payments/checkout.html",
        {
            "booking": target.booking,
            "purchase": target.purchase,
            "amount_cents": paid_for.price_cents,
            "currency": paid_for.currency,
            "pay_url": target.url("pay"),
            "authenticated_url": target.url("authenticated"),
            "retry_url": target.url("checkout"),
            "credits": [(purchase, purchase.sessions - purchase.used) for purchase in credits],  # counted in the query
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


def _checkout(request, target: Target):
    try:
        client_secret = services.checkout_setup(mentee=request.user, **target.ids)
    except services.CheckoutError as error:
        if error.hold_lost or not target.payable:
            return _leave_checkout(request, target, error)
        return _render_checkout(request, target, error=str(error))  # Stripe unreachable: say so, keep the hold
    return _render_checkout(request, target, client_secret=client_secret)


def _pay(request, target: Target):
    form = PayForm(request.POST)
    payment_method_id = ""
    if form.is_valid():
        payment_method_id = form.cleaned_data["payment_method"]
        if form.cleaned_data["use_saved_card"]:
            saved = services.saved_card(request.user)
            payment_method_id = saved.saved_payment_method_id if saved else ""
    if not payment_method_id:
        messages.error(request, ENTER_CARD)
        return redirect(target.url("checkout"))
    try:
        payment = services.checkout_pay(mentee=request.user, payment_method_id=payment_method_id, **target.ids)
    except services.CheckoutError as error:
        return _payment_refused(request, target, error)
    return _after_payment(request, target, payment)


def _authenticated(request, target: Target):
    """The page finished 3-D Secure: re-check the payment with Stripe."""
    try:
        payment = services.checkout_after_authentication(mentee=request.user, **target.ids)
    except services.CheckoutError as error:
        return _payment_refused(request, target, error)
    return _after_payment(request, target, payment)


def _payment_refused(request, target: Target, error: services.CheckoutError):
    """Declined or not authenticated: show why on the checkout and keep the hold for another card."""
    target.refresh()
    if error.hold_lost or not target.payable:
        return _leave_checkout(request, target, error)
    try:
        client_secret = services.checkout_setup(mentee=request.user, **target.ids)
    except services.CheckoutError as lost:
        return _leave_checkout(request, target, lost)
    return _render_checkout(request, target, client_secret=client_secret, error=str(error))


def _after_payment(request, target: Target, payment: Payment):
    if payment.status == Payment.Status.REQUIRES_ACTION:
        try:
            return _render_checkout(request, target, action_secret=services.authentication_secret(payment))
        except services.CheckoutError as error:
            return _payment_refused(request, target, error)
    target.refresh()
    if target.purchase:
        if target.purchase.status == PackagePurchase.Status.PAID:
            messages.success(request, PACKAGE_PAID_MESSAGE.format(package=target.purchase.title))
        else:
            messages.error(request, "Your payment did not go through. Please try again.")
        return redirect("my_packages")
    booking = target.booking
    if booking.status == Booking.Status.PENDING:
        messages.success(request, PAID_MESSAGE.format(mentor=booking.mentor.user))
    else:
        messages.error(
            request, "This time was just taken — please pick another. Your payment is being refunded in full."
        )
    return redirect("booking_detail", booking_id=booking.pk)


def _card_form_version(request, **kwargs) -> list[str]:
    return [f"checkout:{request.user.pk}"]


def _card_form_used(view):
    """A card sent (or a bank's check finished) uses up the card form's SetupIntent: the checkout kept with it
    is drawn afresh next time, whatever the attempt wrote."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        table_versions.changed(*_card_form_version(request))
        return view(request, *args, **kwargs)

    return wrapper


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
@viewer_page(versions=_card_form_version)  # a reload within the minute: the same card form, its SetupIntent unused
def checkout(request, booking_id: int):
    return _checkout(request, _own_booking(request, booking_id))


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
@require_POST
@_card_form_used
@rate_limited("pay")
def pay(request, booking_id: int):
    return _pay(request, _own_booking(request, booking_id))


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
@require_POST
@_card_form_used
def authenticated(request, booking_id: int):
    return _authenticated(request, _own_booking(request, booking_id))


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
def package_checkout(request, purchase_id: int):
    return _checkout(request, _own_purchase(request, purchase_id))


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
@require_POST
@_card_form_used
@rate_limited("pay")
def package_pay(request, purchase_id: int):
    return _pay(request, _own_purchase(request, purchase_id))


@with_stripe_js  # the page it draws (the checkout) runs Stripe.js
@login_required
@require_POST
@_card_form_used
def package_authenticated(request, purchase_id: int):
    return _authenticated(request, _own_purchase(request, purchase_id))


@login_required
@require_POST
@party_only
@rate_limited("refund")
def grant_refund(request, booking_id: int):
    form = RefundGrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect("booking_detail", booking_id=booking_id)
    try:
        refund = services.refund_grant(booking_id=booking_id, actor=request.user, amount_cents=form.amount_cents)
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
        Payment.objects.select_related(
            "booking__service",
            "booking__mentor__user",
            "booking__mentee",
            "purchase__service",
            "purchase__mentor__user",
        )
        .filter(pk=payment_id, status=Payment.Status.SUCCEEDED)
        .first()
    )
    payer_id = payment and (payment.booking or payment.purchase).mentee_id
    if payment is None or not (payer_id == request.user.pk or request.user.is_staff):
        raise Http404("No such receipt.")
    refunds = payment.refunds.exclude(status="failed").order_by("created_at")
    refunded = sum(r.amount_cents for r in refunds)
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "booking": payment.booking,
            "purchase": payment.purchase,
            "payer": (payment.booking or payment.purchase).mentee,
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


@with_stripe_connect
@viewer_page(params=["entries_page", "payouts_page"])
@approved_mentor_required  # inside: a kept page needs no look at the profile (drawing it read the table)
def earnings(request, profile):
    totals = ledger.summary(profile)
    # Paged like the booking lists (?entries_page=, ?payouts_page=): a long history costs no more than a short one.
    pages = section_pages(
        request,
        {"entries": ledger.earnings_entries(profile), "payouts": profile.payouts.order_by("-created_at", "-pk")},
        {"entries": totals["listed_entries"]},
        per_page=EARNINGS_PAGE_SIZE,
    )
    return render(
        request,
        "payments/earnings.html",
        {
            **totals,
            **pages,
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
