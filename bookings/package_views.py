"""Packages: mentors set them up, mentees buy them, book with a credit and see them in My Packages."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mentorship.input_rules import BoundedForm
from mentorship.views import approved_mentor_required

from . import packages
from .forms import LARGEST_ID, safe_next
from .models import Booking, Package, PackagePurchase
from .services import BookingError


class PackageForm(BoundedForm, forms.Form):
    service = forms.ModelChoiceField(queryset=None, label="Session type", empty_label=None)
    sessions = forms.IntegerField(min_value=2, max_value=20, label="Number of sessions")
    price = forms.DecimalField(min_value=Decimal("1"), max_digits=8, decimal_places=2, label="Package price (USD)")
    valid_days = forms.IntegerField(
        min_value=7,
        max_value=365,
        initial=90,
        label="Valid for (days)",
        help_text="Credits expire this long after purchase.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="On offer")

    def __init__(self, *args, mentor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = mentor.services.filter(price_cents__gt=0)  # a free type has no packages


class UseCreditForm(BoundedForm, forms.Form):
    purchase = forms.IntegerField(min_value=1, max_value=LARGEST_ID)


@approved_mentor_required
@require_http_methods(["GET", "POST"])
def package_edit(request, profile, package_id=None):
    package = get_object_or_404(Package, pk=package_id, mentor=profile) if package_id else None
    initial = (
        {
            "service": package.service_id,
            "sessions": package.sessions,
            "price": Decimal(package.price_cents).scaleb(-2),
            "valid_days": package.valid_days,
            "is_active": package.is_active,
        }
        if package
        else {}
    )
    form = PackageForm(request.POST or None, mentor=profile, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = packages.package_save(
                profile,
                package=package,
                service=data["service"],
                sessions=data["sessions"],
                price_cents=int(data["price"] * 100),
                valid_days=data["valid_days"],
                is_active=data["is_active"],
            )
        except BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Package “{saved.title}” is saved.")
            return redirect("mentor_services")
    return render(request, "bookings/package_edit.html", {"form": form, "package": package})


@login_required
@require_POST
def package_buy(request, package_id: int):
    try:
        purchase = packages.purchase_start(mentee=request.user, package_id=package_id)
    except BookingError as error:
        messages.error(request, str(error))
        return redirect(safe_next(request, "back") or "home")
    return redirect("package_checkout", purchase_id=purchase.pk)


@login_required
@require_POST
def booking_use_credit(request, booking_id: int):
    form = UseCreditForm(request.POST)
    if not form.is_valid() or not Booking.objects.filter(pk=booking_id, mentee=request.user).exists():
        raise Http404("No such booking.")
    try:
        booking = packages.booking_pay_with_credit(
            booking_id, mentee=request.user, purchase_id=form.cleaned_data["purchase"]
        )
    except BookingError as error:
        messages.error(request, str(error))
        return redirect("checkout", booking_id=booking_id)
    messages.success(
        request, f"Booked with a package credit. Your session is pending until {booking.mentor.user} confirms it."
    )
    return redirect("booking_detail", booking_id=booking.pk)


@login_required
def my_packages(request):
    purchases = (
        PackagePurchase.objects.filter(mentee=request.user)
        .exclude(status=PackagePurchase.Status.ABANDONED)
        .select_related("mentor__user", "service")
        .prefetch_related("payments", "bookings")
    )
    rows = [(purchase, packages.credits_left(purchase)) for purchase in purchases]
    return render(request, "bookings/my_packages.html", {"rows": rows})
