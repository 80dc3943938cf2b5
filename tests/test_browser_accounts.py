"""Account flows in Chromium: becoming a mentor (staff approve in admin), setting up, resetting a password."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from mentorship.models import MentorProfile

from .factories import UserFactory
from .test_browser_flow import log_in, shot, staff_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mentee_applies_staff_approve_and_the_mentor_sets_up_to_be_booked(new_page):
    applicant = UserFactory(display_name="Noor Applicant", time_zone="Asia/Kolkata")
    UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)

    page = new_page("Asia/Kolkata")
    log_in(page, applicant.email)
    page.get_by_role("link", name="Become a mentor").click()
    page.get_by_label("Headline:").fill("Data engineer who loves SQL")
    page.get_by_label("Bio:").fill("Ten years of pipelines.")
    page.get_by_label("Expertise:").fill("SQL, Airflow")
    page.get_by_label("Why do you want to mentor?").fill("To give back.")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Thanks for applying")
    expect(page.get_by_text("Waiting for review")).to_be_visible()

    staff = new_page()
    staff_action(
        staff,
        email="staff@example.com",
        section="Mentor profiles",
        row="Noor Applicant",
        action="Approve selected applications",
    )
    expect(staff.get_by_text("Approved 1 application(s)")).to_be_visible()
    assert any(m.subject == "You're approved as a mentor" and m.to == [applicant.email] for m in mail.outbox)

    page.reload()
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Add a session type").click()
    page.get_by_label("Title:").fill("45-min SQL review")
    page.get_by_label("Duration (minutes):").fill("45")
    page.get_by_label("Price (USD):").fill("35")
    page.get_by_role("button", name="Save session type").click()
    expect(page.get_by_role("cell", name="$35.00")).to_be_visible()
    lister = new_page("Asia/Kolkata")
    lister.goto("/")
    expect(lister.get_by_role("article", name="Noor Applicant")).to_have_count(0)  # no hours yet: not bookable

    nav.get_by_role("link", name="Schedule").click()
    expect(page.get_by_label("Time zone:")).to_have_value("Asia/Kolkata")
    page.get_by_label("Saturday:").fill("10:00-09:00")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("alert").filter(has_text="Saturday:")).to_have_text(
        "Saturday: 10:00–09:00 ends before it starts."
    )
    assert not MentorProfile.objects.get(user=applicant).availability.exists()
    page.get_by_label("Saturday:").fill("10:00–13:00")
    page.get_by_label("Sunday:").fill("10:00–13:00")
    page.get_by_label("Wednesday:").fill("10:00–13:00")  # three days: some time is always inside this week
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("status")).to_contain_text("Your schedule is saved")
    shot(page, "9-schedule")

    lister.reload()
    expect(lister.get_by_role("article", name="Noor Applicant")).to_contain_text("From $35.00")  # listed now

    visitor = new_page("Asia/Kolkata")
    log_in(visitor, UserFactory(time_zone="Asia/Kolkata").email)
    visitor.get_by_role("link", name="Noor Applicant").click()
    expect(visitor.get_by_role("link", name=re.compile("45-min SQL review"))).to_be_visible()
    expect(visitor.get_by_role("radio").first).to_be_attached()
    first_time = visitor.locator(".slot").first.inner_text()
    assert first_time in {"10:00", "10:30", "11:00", "11:30", "12:00"}  # weekend hours, in the same zone


def test_a_forgotten_password_is_reset_by_e_mail(new_page):
    user = UserFactory()
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("another-long-passphrase")
    page.get_by_label("New password (again)").fill("another-long-passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("another-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_time_zone_is_changed_in_settings_and_logging_out_works(new_page):
    user = UserFactory(time_zone="Europe/London")
    page = new_page()
    log_in(page, user.email)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Time zone:").select_option("America/Sao_Paulo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Times are now shown in Sao Paulo (UTC\u22123)")
    expect(page.get_by_role("contentinfo")).to_contain_text("Times are shown in Sao Paulo (UTC\u22123)")
    user.refresh_from_db()
    assert user.time_zone == "America/Sao_Paulo"

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
