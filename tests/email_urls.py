"""The site's URLs with the e-mail provider's webhooks, which the site has only when EMAIL_PROVIDER is set."""

from django.urls import include, path

from mentorship import urls as site_urls

urlpatterns = [path("anymail/", include("anymail.urls")), *site_urls.urlpatterns]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500
handler429 = site_urls.handler429  # allauth's sign-in limits
