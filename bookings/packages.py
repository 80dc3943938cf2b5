"""Packages: a mentor sells N sessions of one session type; the mentee gets credits that expire.

A purchase is paid through the same checkout as a booking (payments calls
purchase_mark_paid). Booking with a credit skips the card: the held booking goes to
pending with the credit attached. The credit comes back (Booking.credit_returned)
whenever a paid booking would have been refunded in full: decline, expiry, a
cancellation with a full refund, a mentor no-show or a dispute settled with a refund.
Each credit has a value (the price split exactly over the credits): a completed
session earns the mentor that value, and at expiry the value of unused credits goes
to the mentor, as the terms shown before purchase say.

A free session type has no packages: there is nothing to pay for in advance, and its own limit per mentee
(Service.free_sessions_per_mentee) says how many one mentee may have. A package is refused for one, and a
package of a type made free later is no longer offered.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from mentorship import outbox
from mentorship.directory_version import directory_changed
from mentorship.models import MentorProfile, Service

from . import services
from .models import Booking, Package, PackagePurchase
from .services import BookingError

Status = Booking.Status
Purchase = PackagePurchase.Status
EXPIRY_REMINDER_BEFORE = timedelta(days=7)
UNPAID_PURCHASE_KEPT = timedelta(days=1)


def package_save(
    mentor: MentorProfile,
    *,
    package: Package | None = None,
    service: Service,
    sessions: int,
    price_cents: int,
    valid_days: int,
    is_active: bool = True,
) -> Package:
    if service.mentor_id != mentor.pk or (package is not None and package.mentor_id != mentor.pk):
        raise BookingError("That belongs to another mentor.")
    if service.is_free and is_active:
        raise BookingError(FREE_TYPE_HAS_NO_PACKAGES)
    package = package or Package(mentor=mentor)
    package.service, package.sessions, package.price_cents = service, sessions, price_cents
    package.valid_days, package.is_active = valid_days, is_active
    package.full_clean()
    package.save()
    directory_changed()  # the packages offered on the mentor's public profile
    return package


FREE_TYPE_HAS_NO_PACKAGES = (
    "This session type is free, so it can't be sold as a package. To limit how many one mentee may book, "
    "set its free sessions per mentee."
)


def offered(packages):
    """Packages on offer: open, of an open session type that is not free."""
    return packages.filter(is_active=True, service__is_active=True, service__price_cents__gt=0)


def purchase_start(*, mentee, package_id: int) -> PackagePurchase:
    """Open a purchase to pay for; a double click or second tab gets the same one."""
    package = (
        offered(Package.objects.select_related("service", "mentor__user"))
        .filter(pk=package_id, mentor__status=MentorProfile.Status.APPROVED)
        .first()
    )
    if package is None:
        raise BookingError("This package is not on offer any more.")
    if package.mentor.user_id == mentee.pk:
        raise BookingError("You can't buy your own package.")
    open_purchase = PackagePurchase.objects.filter(
        mentee=mentee, package=package, status=Purchase.AWAITING_PAYMENT
    ).first()
    if open_purchase is not None:
        return open_purchase
    try:
        with transaction.atomic():
            return PackagePurchase.objects.create(
                package=package,
                mentee=mentee,
                mentor=package.mentor,
                service=package.service,
                sessions=package.sessions,
                price_cents=package.price_cents,
                currency=settings.PLATFORM_CURRENCY,
                valid_days=package.valid_days,
            )
    except IntegrityError:  # the other tab opened it a moment ago
        return PackagePurchase.objects.get(mentee=mentee, package=package, status=Purchase.AWAITING_PAYMENT)


def purchase_mark_paid(purchase_id: int, *, now: datetime | None = None) -> bool:
    """Payment succeeded: the credits start. True the first time (the caller's transaction holds the locks)."""
    now = now or timezone.now()
    purchase = PackagePurchase.objects.get(pk=purchase_id)
    changed = PackagePurchase.objects.filter(
        pk=purchase_id,
        status__in=[Purchase.AWAITING_PAYMENT, Purchase.ABANDONED],
        mentee__is_active=True,  # a payment landing after either account was deleted is refunded by the caller
        mentor__user__is_active=True,
    ).update(status=Purchase.PAID, paid_at=now, expires_at=now + timedelta(days=purchase.valid_days))
    if changed:
        outbox.record("purchase.notice", purchase_id=purchase_id, kind="package_paid")
    return bool(changed)


def _holds_credit(booking: Booking) -> bool:
    """A booking keeps its credit unless the credit came back (or it never left checkout)."""
    return not booking.credit_returned and booking.status != Status.ABANDONED


def credits_left(purchase: PackagePurchase) -> int:
    """Credits not spoken for; reads prefetched bookings when the caller loaded them (My Packages)."""
    return len(unused_positions(purchase))


def usable_purchases(mentee, service: Service, *, start: datetime | None = None, now: datetime | None = None):
    """The mentee's paid packages for this session type with credits left, soonest expiry first.

    A credit is for a session that starts before the package expires.
    """
    now = now or timezone.now()
    before = max(start or now, now)
    return list(
        PackagePurchase.objects.filter(mentee=mentee, service=service, status=Purchase.PAID, expires_at__gt=before)
        .annotate(
            used=Count("bookings", filter=Q(bookings__credit_returned=False) & ~Q(bookings__status=Status.ABANDONED))
        )
        .filter(used__lt=F("sessions"))
        .order_by("expires_at")
    )


def booking_pay_with_credit(booking_id: int, *, mentee, purchase_id: int, now: datetime | None = None) -> Booking:
    """Use one credit instead of a card: the held booking goes to the mentor as a request."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_related("mentor").get(pk=booking_id)
        MentorProfile.objects.select_for_update().get(pk=booking.mentor_id)  # mentor → booking → purchase
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        purchase = PackagePurchase.objects.select_for_update().filter(pk=purchase_id, mentee=mentee).first()
        if booking.mentee_id != mentee.pk or purchase is None:
            raise BookingError("That package is not yours.")
        if booking.status != Status.HELD or booking.hold_expires_at <= now:
            raise BookingError("Your hold on this time ran out. Please pick a time again.")
        if booking.payments.filter(status__in=["processing", "requires_action", "succeeded"]).exists():
            raise BookingError("A card payment for this session is already under way, so no credit was used.")
        if purchase.status != Purchase.PAID or purchase.service_id != booking.service_id:
            raise BookingError("This package can't pay for this session.")
        if purchase.expires_at <= max(booking.start, now):
            raise BookingError(f"This package's credits expire on {purchase.expires_at:%-d %B}, before this session.")
        free = unused_positions(purchase)
        if not free:
            raise BookingError("This package has no credits left.")
        booking.package_purchase = purchase
        booking.credit_position = free[0]
        booking.price_cents = purchase.credit_value_cents(free[0])
        booking.save(update_fields=["package_purchase", "credit_position", "price_cents", "updated_at"])
        return services.booking_mark_paid(booking.pk, note="Paid with a package credit")


def run_sweeps(*, now: datetime | None = None) -> dict:
    """Remind before credits expire, settle expired packages, close purchases never paid. Safe to run twice."""
    now = now or timezone.now()
    reminded = settled = 0
    due = PackagePurchase.objects.filter(
        status=Purchase.PAID,
        settled_at__isnull=True,  # never settled before it expires; says the index's condition
        expiry_reminder_sent=False,
        expires_at__gt=now,
        expires_at__lte=now + EXPIRY_REMINDER_BEFORE,
    )
    for purchase in due:
        if not credits_left(purchase):
            continue
        with transaction.atomic():  # the claim and the notice commit together
            if PackagePurchase.objects.filter(pk=purchase.pk, expiry_reminder_sent=False).update(
                expiry_reminder_sent=True
            ):
                outbox.record("purchase.notice", purchase_id=purchase.pk, kind="package_expiring")
                reminded += 1
    # Settling writes ledger entries (once per source) and then marks the purchase settled, in payments;
    # a lost task is simply queued again by the next sweep.
    for purchase_id in PackagePurchase.objects.filter(
        status=Purchase.PAID, expires_at__lte=now, settled_at__isnull=True
    ).values_list("pk", flat=True):
        outbox.record("purchase.expired", once=f"purchase-{purchase_id}-expired", purchase_id=purchase_id)
        settled += 1
    abandoned = PackagePurchase.objects.filter(
        status=Purchase.AWAITING_PAYMENT, created_at__lte=now - UNPAID_PURCHASE_KEPT
    ).update(status=Purchase.ABANDONED)
    return {"reminded": reminded, "settled": settled, "abandoned": abandoned}


def unused_positions(purchase: PackagePurchase) -> list[int]:
    """The credits not spoken for by a live booking (a returned credit counts as unused again)."""
    taken = {booking.credit_position for booking in purchase.bookings.all() if _holds_credit(booking)}
    return [position for position in range(1, purchase.sessions + 1) if position not in taken]


def expired_unused_positions(purchase: PackagePurchase) -> list[int]:
    """Credits left unused at expiry, less those returned after it (their value went back to the card)."""
    refunded = set(
        purchase.bookings.filter(credit_returned=True, credit_returned_at__gte=purchase.expires_at).values_list(
            "credit_position", flat=True
        )
    )
    return [position for position in unused_positions(purchase) if position not in refunded]
