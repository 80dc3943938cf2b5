"""The mentor directory: search, filters, sorting and pages, all in the query string (no JavaScript needed).

The list of results is the same for every visitor in one time zone, so it is rendered once and kept
for a minute under the directory's version (mentorship.directory_version): a change to a mentor shows
at once, and the next free times stay as fresh as their background refresh. Only the filter form,
which carries the visitor's own choices, is rendered per request.
"""

import hashlib

from django import forms
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from mentorship.directory_version import DIRECTORY, directory_version
from mentorship.input_rules import BoundedForm
from mentorship.page_cache import anonymous_page, viewer_page

from . import directory

PAGE_SIZE = 12
RESULTS_TTL = 60  # seconds; also bounds changes made outside the services (the admin's edit forms)


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


class PageNumberForm(BoundedForm, forms.Form):
    """The directory's `?page=`: a number or nothing (a bad one shows the first page, a high one the last)."""

    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


# For visitors with nothing of their own, the whole page is kept: a minute at most, and never past a change
# that shows on a card (the directory's version).
@anonymous_page(60, params=[*DirectoryForm.base_fields, "page"], versions=lambda request: [DIRECTORY])
@viewer_page(params=[*DirectoryForm.base_fields, "page"], versions=lambda request: [DIRECTORY])
def directory_page(request):
    form = DirectoryForm(request.GET or None)
    query = form.query() if form.is_valid() else directory.Query(sort="rating")
    params = request.GET.copy()
    params.pop("page", None)
    asked = PageNumberForm(request.GET)
    page_number = asked.cleaned_data["page"] if asked.is_valid() else None
    page, results = _results(query, params=params.urlencode(), page_number=page_number)
    filtered = any(value for key, value in request.GET.items() if key not in ("page", "sort"))
    # On phones the filters fold behind "Filters"; they stay open while one is set, so it can be seen and changed.
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters_open = bool(form.errors) or any(value for key, value in chosen.items() if key != "q")
    return render(
        request,
        "bookings/directory.html",
        {"form": form, "page": page, "results": results, "filtered": filtered, "filters_open": filters_open},
        status=400 if form.errors else 200,
    )


class _OnePage:
    """The cached mentors of one page, standing in for the whole list: its length is the total count."""

    def __init__(self, mentors: list, *, count: int, offset: int):
        self.mentors, self.count_, self.offset = mentors, count, offset

    def __len__(self) -> int:
        return self.count_

    def __getitem__(self, index: slice) -> list:
        assert index.start == self.offset, "only the cached page can be read"
        return self.mentors[: index.stop - index.start]


def _results(query: directory.Query, *, params: str, page_number: int | None) -> tuple[Page, str]:
    """The page of mentors and its rendered list, from the cache when this query was shown in this zone lately."""
    version = directory_version()
    zone = timezone.get_current_timezone_name()  # "Next free" is shown in the viewer's zone
    key = "directory:results:" + _digest(version, zone, query, params, page_number)
    cached = cache.get(key)
    if cached is not None:
        count, number, mentors, html = cached
        paginator = Paginator(_OnePage(mentors, count=count, offset=(number - 1) * PAGE_SIZE), PAGE_SIZE)
        return paginator.page(number), mark_safe(html)  # noqa: S308 (rendered by our template)
    paginator = Paginator(directory.search(query), PAGE_SIZE)
    count_key = "directory:count:" + _digest(version, query)  # the same for every page of one query
    count = cache.get(count_key)
    if count is not None:
        paginator.count = count
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    html = render_to_string("bookings/_directory_results.html", {"page": page, "params": params})
    cache.set_many(
        {key: (paginator.count, page.number, page.object_list, html), count_key: paginator.count}, RESULTS_TTL
    )
    return page, html


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()
