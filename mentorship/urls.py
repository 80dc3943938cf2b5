from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from bookings import directory_views, package_views, review_views
from bookings import views as booking_views
from notifications import message_views
from notifications import views as notification_views
from payments import views as payment_views

from . import calendar_views, views

# The admin has no login form of its own: staff sign in through the site's (rate-limited, with a second
# factor when set up) and come back.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", directory_views.directory_page, name="home"),
    path("settings/", views.account_settings, name="account_settings"),
    path("settings/data/", views.account_data_download, name="account_data_download"),
    path("settings/delete/", views.account_delete, name="account_delete"),
    path("settings/calendars/", calendar_views.calendars, name="calendars"),
    path("settings/calendars/remove/", calendar_views.calendar_remove, name="calendar_remove"),
    path("settings/calendars/caldav/", calendar_views.caldav_account, name="caldav_account"),
    path("settings/calendars/caldav/pick/", calendar_views.caldav_pick, name="caldav_pick"),
    path("become-a-mentor/", views.become_mentor, name="become_mentor"),
    path("how-it-works/mentors/", views.how_it_works_for_mentors, name="how_it_works_mentors"),
    path("mentor/profile/", views.mentor_profile_edit, name="mentor_profile_edit"),
    path("mentor/services/", views.mentor_services, name="mentor_services"),
    path("mentor/services/new/", views.mentor_service_edit, name="mentor_service_new"),
    path("mentor/services/<int:service_id>/", views.mentor_service_edit, name="mentor_service_edit"),
    path("mentor/services/<int:service_id>/move/", views.mentor_service_move, name="mentor_service_move"),
    path("mentor/packages/new/", package_views.package_edit, name="package_new"),
    path("mentor/packages/<int:package_id>/", package_views.package_edit, name="package_edit"),
    path("packages/<int:package_id>/buy/", package_views.package_buy, name="package_buy"),
    path("packages/", package_views.my_packages, name="my_packages"),
    path("bookings/<int:booking_id>/use-credit/", package_views.booking_use_credit, name="booking_use_credit"),
    path("checkout/package/<int:purchase_id>/", payment_views.package_checkout, name="package_checkout"),
    path("checkout/package/<int:purchase_id>/pay/", payment_views.package_pay, name="package_pay"),
    path(
        "checkout/package/<int:purchase_id>/authenticated/",
        payment_views.package_authenticated,
        name="package_authenticated",
    ),
    path("mentor/schedule/", views.mentor_schedule, name="mentor_schedule"),
    path("mentor/schedule/dates/", views.mentor_date_override, name="mentor_date_override"),
    path("mentor/schedule/vacations/", views.mentor_vacation, name="mentor_vacation"),
    path("mentor/bookings/", booking_views.mentor_bookings, name="mentor_bookings"),
    path("mentor/earnings/", payment_views.earnings, name="earnings"),
    path("mentor/earnings/stripe/connect/", payment_views.connect_stripe, name="connect_stripe"),
    path("mentor/earnings/stripe/return/", payment_views.connect_stripe_return, name="connect_stripe_return"),
    path("mentor/earnings/stripe/refresh/", payment_views.connect_stripe_refresh, name="connect_stripe_refresh"),
    path("mentors/<int:mentor_id>/", booking_views.mentor_profile, name="mentor_profile"),
    path("mentors/<int:mentor_id>/photo/", views.mentor_photo, name="mentor_photo"),
    path("mentors/<int:mentor_id>/book/", booking_views.book, name="book"),
    path("mentors/<int:mentor_id>/times/", booking_views.mentor_times, name="mentor_times"),
    path("book/resume/", booking_views.book_resume, name="book_resume"),  # booking_draft.RESUME_URL_NAME
    path("book/forget/", views.forget_booking_draft, name="book_forget"),
    path("bookings/", booking_views.my_bookings, name="my_bookings"),
    path("bookings/<int:booking_id>/", booking_views.booking_detail, name="booking_detail"),
    path("bookings/<int:booking_id>/confirm/", booking_views.confirm, name="booking_confirm"),
    path("bookings/<int:booking_id>/decline/", booking_views.decline, name="booking_decline"),
    path("bookings/<int:booking_id>/complete/", booking_views.complete, name="booking_complete"),
    path("bookings/<int:booking_id>/cancel/", booking_views.cancel, name="booking_cancel"),
    path("bookings/<int:booking_id>/move/", booking_views.reschedule, name="booking_reschedule"),
    path("bookings/<int:booking_id>/rebook/", booking_views.rebook, name="booking_rebook"),
    path("bookings/<int:booking_id>/refund-choice/", booking_views.take_refund, name="booking_take_refund"),
    path("bookings/<int:booking_id>/links/", booking_views.set_links, name="booking_links"),
    path("bookings/<int:booking_id>/no-show/", booking_views.report_no_show, name="booking_no_show"),
    path("bookings/<int:booking_id>/suggest/", booking_views.suggest_times, name="booking_suggest"),
    path("bookings/<int:booking_id>/accept/", booking_views.accept_suggestion, name="booking_accept"),
    path("bookings/<int:booking_id>/calendar.ics", notification_views.booking_ics, name="booking_ics"),
    path("bookings/<int:booking_id>/support/", booking_views.contact_support, name="booking_support"),
    path("bookings/<int:booking_id>/refund/", payment_views.grant_refund, name="grant_refund"),
    path("checkout/<int:booking_id>/", payment_views.checkout, name="checkout"),
    path("checkout/<int:booking_id>/pay/", payment_views.pay, name="checkout_pay"),
    path("checkout/<int:booking_id>/authenticated/", payment_views.authenticated, name="checkout_authenticated"),
    path("payments/<int:payment_id>/receipt/", payment_views.receipt, name="receipt"),
    path("payments/stripe/webhook/", payment_views.stripe_webhook, name="stripe_webhook"),
    path("bookings/<int:booking_id>/review/", review_views.review, name="booking_review"),
    path("bookings/<int:booking_id>/review/reply/", review_views.reply, name="review_reply"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("messages/", message_views.conversation_list, name="conversations"),
    path("messages/<int:conversation_id>/", message_views.conversation, name="conversation"),
    path("messages/to/mentor/<int:mentor_id>/", message_views.message_mentor, name="message_mentor"),
    path("bookings/<int:booking_id>/message/", message_views.message_about_booking, name="message_about_booking"),
    path("notifications/read/", notification_views.notification_read, name="notifications_read"),
    path("settings/notifications/", notification_views.notification_settings, name="notification_settings"),
    path("settings/email-works/", notification_views.email_works_again, name="email_works_again"),
    # token_urlsafe tokens: a slug, so no other character (a NUL breaks PostgreSQL) reaches the query.
    path("calendar/<slug:token>.ics", notification_views.calendar_feed, name="calendar_feed"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("bench/hello/", views.bench_hello, name="bench_hello"),  # 404 unless BENCH_HELLO (bench/web.py)
]
# The e-mail provider's delivery reports (anymail: basic auth, and Mailgun's signature; CSRF-exempt): bounces
# and complaints mark an address undeliverable (notifications.suppression). Point the provider at
# /anymail/<provider>/tracking/. Only with a provider: without its keys the webhook could only fail.
if settings.EMAIL_PROVIDER:
    urlpatterns.append(path("anymail/", include("anymail.urls")))

# Our own error pages (DEBUG off); the refused-form page is CSRF_FAILURE_VIEW in settings.
handler400 = "mentorship.error_pages.bad_request"
handler403 = "mentorship.error_pages.permission_denied"
handler404 = "mentorship.error_pages.page_not_found"
handler429 = "mentorship.error_pages.sign_in_limited"  # allauth's rate limits (not a Django handler)
handler500 = "mentorship.error_pages.server_error"
