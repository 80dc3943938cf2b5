"""The mentor directory: search, filters, sorting and pages, all in the query string (no JavaScript needed)."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render

from mentorship.input_rules import BoundedForm

from . import directory

PAGE_SIZE = 12


class DirectoryForm(BoundedForm, forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    expertise = forms.ChoiceField(required=False, label="Expertise")
    language = forms.ChoiceField(required=False, label="Language")
    min_price = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=2, label="Min price ($)")
    max_price = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=2, label="Max price ($)")
    rating = forms.TypedChoiceField(
        required=False,
        coerce=float,
        empty_value=None,
        label="Rating",
        choices=[("", "Any rating"), ("4.5", "4.5 stars and up"), ("4", "4 stars and up"), ("3", "3 stars and up")],
    )
    format = forms.ChoiceField(
        required=False,
        label="Sessions",
        choices=[("", "Online or in person"), ("online", "Online"), ("in_person", "In person")],
    )
    free_within = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Free time",
        choices=[("", "Any time")] + [(str(days), f"In the next {days} days") for days in (3, 7, 14)],
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[("", "Recommended")] + [(key, label) for key, label in directory.SORTS.items() if key != "relevance"],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expertise"].choices = [("", "Any expertise")] + [(t, t) for t in directory.topics("expertise")]
        self.fields["language"].choices = [("", "Any language")] + [(t, t) for t in directory.topics("languages")]

    def query(self) -> directory.Query:
        data = self.cleaned_data
        cents = {name: None if data.get(name) is None else int(data[name] * 100) for name in ("min_price", "max_price")}
        return directory.Query(
            text=data.get("q", ""),
            expertise=data.get("expertise", ""),
            language=data.get("language", ""),
            min_price_cents=cents["min_price"],
            max_price_cents=cents["max_price"],
            min_rating=data.get("rating"),
            format=data.get("format", ""),
            free_within_days=data.get("free_within"),
            sort=data.get("sort") or ("relevance" if data.get("q") else "rating"),
        )


def directory_page(request):
    form = DirectoryForm(request.GET or None)
    query = form.query() if form.is_valid() else directory.Query(sort="rating")
    page = Paginator(directory.search(query), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    filtered = any(value for key, value in request.GET.items() if key not in ("page", "sort"))
    # On phones the filters fold behind "Filters"; they stay open while one is set, so it can be seen and changed.
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters_open = bool(form.errors) or any(value for key, value in chosen.items() if key != "q")
    return render(
        request,
        "bookings/directory.html",
        {"form": form, "page": page, "params": params.urlencode(), "filtered": filtered, "filters_open": filters_open},
        status=400 if form.errors else 200,
    )
