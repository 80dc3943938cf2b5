"""Finding mentors: who is listed, and the page that tells mentors how it works."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import directory
from mentorship import listing
from mentorship.models import AvailabilityRule, DateOverride, MentorProfile, Service, User

from .factories import MentorProfileFactory, ServiceFactory, UserFactory, bookable_mentor, weekly_hours

pytestmark = pytest.mark.django_db


def test_only_approved_and_bookable_mentors_are_listed(client):
    listed = bookable_mentor(user__display_name="Listed Lena")
    bookable_mentor(user__display_name="Applied Arjun", status=MentorProfile.Status.APPLIED)
    ServiceFactory(mentor=MentorProfileFactory(user__display_name="No Hours Nora"))  # a service, no hours
    closed = bookable_mentor(user__display_name="Closed Chloe")
    for service in closed.services.all():
        service.is_active = False
        service.save()
    dated = MentorProfileFactory(user__display_name="Dated Dan")  # no weekly hours, one open date
    ServiceFactory(mentor=dated)
    DateOverride.objects.create(
        mentor=dated, date=timezone.localdate() + timedelta(days=3), start_time=time(9), end_time=time(12)
    )
    page = client.get(reverse("home")).content.decode()
    assert listed.user.display_name in page and "Dated Dan" in page
    for hidden in ("Applied Arjun", "No Hours Nora", "Closed Chloe"):
        assert hidden not in page


def test_how_it_works_for_mentors_walks_through_the_steps_with_our_real_terms(client, settings):
    settings.PLATFORM_FEE_PERCENT, settings.PAYOUT_MINIMUM_CENTS = 15, 1000
    page = client.get(reverse("how_it_works_mentors")).content.decode()
    for step in ("Apply", "Add session types and prices", "Set your hours", "Connect Stripe", "Get paid"):
        assert step in page
    assert "platform fee of 15%" in page and "reaches $10.00" in page
    assert reverse("become_mentor") in page


# --- Search, filters, sorting, pages -------------------------------------------------------


def _mentor(name, *, headline="Mentor", expertise="Careers", languages="English", price=4000, fmt="online", **kwargs):
    mentor = MentorProfileFactory(
        user__display_name=name, headline=headline, expertise=expertise, languages=languages, **kwargs
    )
    ServiceFactory(mentor=mentor, price_cents=price, format=fmt, address="Main St 1" if fmt == "in_person" else "")
    weekly_hours(mentor)
    return mentor


def _names(client, **params):
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return [mentor.user.display_name for mentor in response.context["page"]]


def test_search_matches_name_headline_and_expertise_and_ranks_names_first(client):
    _mentor("Ada Django", headline="Backend lead")
    _mentor("Ben Stone", headline="Django and Python mentor")
    _mentor("Cleo Park", expertise="Django, careers")
    _mentor("Dev Null", headline="Product design")
    assert _names(client, q="django") == ["Ada Django", "Ben Stone", "Cleo Park"]
    assert _names(client, q="django python") == ["Ben Stone"]  # every word must match


def test_filters_narrow_the_list(client):
    _mentor("Ana", expertise="Leadership", languages="English, Spanish", price=3000)
    _mentor("Bo", expertise="SQL", languages="German", price=9000, fmt="in_person")
    _mentor("Cy", expertise="Leadership, hiring", languages="English", price=6000)
    assert _names(client, expertise="Leadership") == ["Ana", "Cy"]
    assert _names(client, language="Spanish") == ["Ana"]
    assert _names(client, min_price="50", max_price="100") == ["Bo", "Cy"]
    assert _names(client, format="in_person") == ["Bo"]
    assert _names(client, expertise="Leadership", max_price="40") == ["Ana"]
    page = client.get(reverse("home")).content.decode()
    assert (
        '<option value="Leadership">Leadership</option>' in page and '<option value="Spanish">Spanish</option>' in page
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.stripe
def test_rating_filter_and_sorting_by_rating_price_and_soonest_free_time(client, stripe_server):
    from bookings import reviews

    from .test_reviews import completed

    low = bookable_mentor(user__display_name="Low Rated")
    high = bookable_mentor(user__display_name="High Rated")
    for mentor, stars in ((low, 3), (high, 5)):
        booking = completed(mentor, stripe_server)
        reviews.review_save(booking.pk, mentee=booking.mentee, rating=stars, text="")
    cheap = _mentor("Cheap Later", price=1500)
    cheap.availability.all().delete()  # free only in ten days
    DateOverride.objects.create(
        mentor=cheap, date=timezone.localdate() + timedelta(days=10), start_time=time(9), end_time=time(17)
    )
    directory.refresh_all_next_free()
    assert _names(client, rating="4") == ["High Rated"]
    assert _names(client, sort="rating") == ["High Rated", "Low Rated", "Cheap Later"]
    assert _names(client, sort="price")[0] == "Cheap Later"
    assert _names(client, sort="soonest")[-1] == "Cheap Later"
    assert _names(client, free_within="7") == ["High Rated", "Low Rated"]  # sorted by rating by default


def test_pages_keep_the_filters(client):
    for index in range(14):
        _mentor(f"Mentor {index:02d}", expertise="Python")
    _mentor("Other", expertise="Design")
    first = client.get(reverse("home"), {"expertise": "Python", "sort": "price"})
    assert first.context["page"].paginator.count == 14 and len(first.context["page"]) == 12
    assert "?expertise=Python&amp;sort=price&page=2" in first.content.decode()
    second = client.get(reverse("home"), {"expertise": "Python", "sort": "price", "page": "2"})
    assert len(second.context["page"]) == 2


@pytest.mark.parametrize(
    ("asked", "shown"), [("abc", 1), ("0", 1), ("2", 2), ("99999", 2), ("1" * 400, 1), ("2\x00", 1)]
)
def test_a_bad_page_number_shows_the_first_page_and_a_high_one_the_last(client, asked, shown):
    for index in range(14):
        _mentor(f"Mentor {index:02d}")
    response = client.get(reverse("home"), {"page": asked})
    assert response.status_code == 200
    assert response.context["page"].number == shown


def test_bad_filters_get_a_message_and_show_everyone(client):
    _mentor("Ana")
    response = client.get(reverse("home"), {"min_price": "-5", "free_within": "9999"})
    assert response.status_code == 400
    assert "Some filters were not valid" in response.content.decode()
    assert [m.user.display_name for m in response.context["page"]] == ["Ana"]


def _bulk_mentors(count, start):
    users = User.objects.bulk_create(
        User(email=f"bulk{start + i}@example.com", display_name=f"Bulk {start + i}") for i in range(count)
    )
    soon = timezone.now() + timedelta(days=2)
    mentors = MentorProfile.objects.bulk_create(
        MentorProfile(
            user=user, headline="Helps with Python", expertise="Python, careers", status="approved", next_free_at=soon
        )
        for user in users
    )
    Service.objects.bulk_create(
        Service(mentor=mentor, title="Intro", duration_minutes=30, price_cents=4000) for mentor in mentors
    )
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(mentor=mentor, weekday=0, start_time=time(9), end_time=time(12)) for mentor in mentors
    )
    listing.refresh(*(mentor.pk for mentor in mentors))  # bulk_create skips the signals that keep it


def _results(response) -> str:
    page = response.content.decode()
    return page[page.index('<section aria-labelledby="results-h">') :].split("</section>")[0]


DIRECTORY_VIEWS = {
    "home": {},
    "search": {"q": "python"},
    "filters": {
        "expertise": "Python",
        "language": "English",
        "min_price": "10",
        "max_price": "100",
        "format": "online",
        "free_within": "7",
        "sort": "price",
    },
}


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("params", DIRECTORY_VIEWS.values(), ids=DIRECTORY_VIEWS.keys())
def test_the_directory_costs_the_same_queries_for_3_and_for_40_mentors(
    client, params, signed_in, django_assert_max_num_queries
):
    from django.core.cache import cache, caches

    if signed_in:
        client.force_login(UserFactory())
    seen = {}
    for size, start in ((3, 0), (37, 3)):
        _bulk_mentors(size, start)
        cache.clear()  # as after a change: the filter lists, the count and the page are all worked out again
        caches["pages"].clear()
        with django_assert_max_num_queries(9 if signed_in else 4):
            first = client.get(reverse("home"), params)
        # The same page again comes from the cache; signed in, only the session, the user and the bell remain.
        with django_assert_max_num_queries(5 if signed_in else 0):
            again = client.get(reverse("home"), params)
        assert _results(first) == _results(again)
        seen[size] = first.context["page"].paginator.count
    assert seen == {3: 3, 37: 40}


# --- The next free time ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.stripe
def test_next_free_time_follows_bookings_and_schedule_changes(stripe_server):
    from bookings import selectors, services
    from mentorship import services as mentor_services

    mentor = bookable_mentor()
    directory.refresh_next_free(mentor.pk)
    mentor.refresh_from_db()
    first = mentor.next_free_at
    assert first == min(
        selectors.open_slots(s, start=timezone.now(), end=timezone.now() + timedelta(days=7))[0]
        for s in mentor.services.all()
    )
    # Both session types start on the same grid: holding the 60-minute one at the first time moves it on.
    deep = mentor.services.get(duration_minutes=60)
    services.booking_hold(mentee=UserFactory(), service=deep, start=first)
    mentor.refresh_from_db()
    assert mentor.next_free_at > first  # refreshed on commit by the booking
    mentor_services.vacation_add(
        mentor, start_date=timezone.localdate(), end_date=timezone.localdate() + timedelta(days=90)
    )
    mentor.refresh_from_db()
    assert mentor.next_free_at is None  # away for longer than the horizon


def test_a_new_mentor_sees_what_is_left_before_being_listed(client):
    mentor = MentorProfileFactory()
    client.force_login(mentor.user)
    page = client.get(reverse("mentor_services")).content.decode()
    assert "Get set up to be booked" in page
    assert f'href="{reverse("mentor_schedule")}">Set your hours' in page
    ServiceFactory(mentor=mentor)
    weekly_hours(mentor)
    assert "Get set up to be booked" not in client.get(reverse("mentor_services")).content.decode()


@pytest.mark.django_db(transaction=True)  # the e-mail goes after commit
def test_staff_refuse_an_application_only_with_a_reason_which_the_applicant_reads(admin_client, client):
    from django.core import mail

    profile = MentorProfileFactory(status=MentorProfile.Status.APPLIED, user__display_name="Rae Applicant")
    changelist = reverse("admin:mentorship_mentorprofile_changelist")
    response = admin_client.post(changelist, {"action": "reject", "_selected_action": [profile.pk]}, follow=True)
    assert "Write the reason for the applicant" in response.content.decode()
    profile.refresh_from_db()
    assert profile.status == "applied" and not mail.outbox
    MentorProfile.objects.filter(pk=profile.pk).update(review_note="Please add more about your experience.")
    admin_client.post(changelist, {"action": "reject", "_selected_action": [profile.pk]})
    profile.refresh_from_db()
    assert profile.status == "rejected"
    (email,) = mail.outbox
    assert email.subject == "About your mentor application" and "Please add more about your experience." in email.body
    from notifications.models import Notification

    notice = Notification.objects.get(user=profile.user)  # kept under the bell and retried like every notice
    assert (notice.kind, notice.link, notice.email_status) == ("application_refused", reverse("become_mentor"), "sent")
    client.force_login(profile.user)
    page = client.get(reverse("become_mentor")).content.decode()
    assert "Please add more about your experience." in page and "You can apply again" in page


def test_the_periodic_job_refreshes_each_listed_mentor_and_clears_the_unlisted(client):
    from bookings import tasks

    listed = _mentor("Ana")
    gone = _mentor("Bo")
    gone.status, gone.next_free_at = "rejected", timezone.now()
    gone.save()
    assert tasks.refresh_next_free_times() == 1
    listed.refresh_from_db()
    gone.refresh_from_db()
    assert listed.next_free_at is not None and gone.next_free_at is None


def test_the_cached_list_shows_a_mentors_change_at_once_and_an_edit_outside_the_services_within_a_minute(
    client, django_capture_on_commit_callbacks, settings
):
    import time_machine

    from mentorship import services as mentor_services

    mentor = _mentor("Ana", headline="Backend lead")
    assert "Backend lead" in _results(client.get(reverse("home")))
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on once the change is committed
        mentor_services.mentor_profile_update(mentor, headline="Staff engineer", bio="Hi", expertise="Careers")
    assert "Staff engineer" in _results(client.get(reverse("home")))
    MentorProfile.objects.filter(pk=mentor.pk).update(headline="Edited by staff")  # as the admin's form would
    assert "Staff engineer" in _results(client.get(reverse("home")))
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        return  # Redis expires keys by its own clock, which time-machine cannot move
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert "Edited by staff" in _results(client.get(reverse("home")))


# --- The stored listing, lowest price and rating the directory reads ---------------------------


def test_a_mentor_is_listed_once_they_offer_a_session_type_and_hours_and_drops_off_when_their_dated_hours_pass(client):
    import time_machine

    from mentorship import services as mentor_services

    mentor = MentorProfileFactory(user__display_name="Nova New")
    assert "Nova New" not in _results(client.get(reverse("home")))  # (the list is cached from here on)
    service = mentor_services.service_save(
        mentor, title="Intro", description="", duration_minutes=30, price_cents=5000, is_active=True
    )
    assert not directory.search(directory.Query()).filter(pk=mentor.pk).exists()  # no hours yet
    in_three_days = timezone.localdate() + timedelta(days=3)
    mentor_services.date_override_set(mentor, day=in_three_days, ranges=[(time(9), time(12))])
    assert directory.search(directory.Query()).filter(pk=mentor.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(days=4)):  # the only dated hours have passed
        assert not directory.search(directory.Query()).filter(pk=mentor.pk).exists()
        weekly_hours(mentor, days=[1])
        assert directory.search(directory.Query()).filter(pk=mentor.pk).exists()
    mentor_services.service_save(
        mentor, service=service, title="Intro", description="", duration_minutes=30, price_cents=5000, is_active=False
    )
    assert not directory.search(directory.Query()).filter(pk=mentor.pk).exists()  # no open session type


def test_the_lowest_price_follows_every_way_a_session_type_changes(client):
    mentor = _mentor("Ana", price=6000)

    def lowest():
        return directory.search(directory.Query()).get(pk=mentor.pk).min_price_cents

    cheap = ServiceFactory(mentor=mentor, price_cents=2500)
    assert lowest() == 2500
    cheap.price_cents = 9000
    cheap.save()
    assert lowest() == 6000
    mentor.services.filter(price_cents=6000).delete()
    assert lowest() == 9000
    assert _names(client, max_price="80") == [] and _names(client, max_price="90") == ["Ana"]
    assert _names(client, min_price="95") == [] and _names(client, min_price="60", max_price="95") == ["Ana"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.stripe
def test_the_stored_rating_counts_only_visible_reviews_through_edits_and_hiding(client, stripe_server):
    from bookings import reviews

    from .test_reviews import completed

    mentor = bookable_mentor(user__display_name="Rita Rated")
    first, second = completed(mentor, stripe_server), completed(mentor, stripe_server, days_ahead=5)
    reviews.review_save(first.pk, mentee=first.mentee, rating=5, text="")
    review = reviews.review_save(second.pk, mentee=second.mentee, rating=2, text="")
    mentor.refresh_from_db()
    assert (mentor.rating_average, mentor.rating_count) == (Decimal("3.5"), 2)
    assert _names(client, rating="3") == ["Rita Rated"] and _names(client, rating="4") == []
    reviews.review_save(second.pk, mentee=second.mentee, rating=3, text="Better on reflection")
    assert _names(client, rating="4.5") == [] and _names(client, rating="4") == ["Rita Rated"]
    reviews.review_hide(review.pk, reason="Abusive")
    mentor.refresh_from_db()
    assert (mentor.rating_average, mentor.rating_count) == (Decimal(5), 1)
    assert "(1 review)" in _results(client.get(reverse("home")))
    reviews.review_unhide(review.pk)
    mentor.refresh_from_db()
    assert (mentor.rating_average, mentor.rating_count) == (Decimal(4), 2)
