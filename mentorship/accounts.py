"""How sign-in is limited (allauth's account adapter): failed logins are counted in the shared cache
per client IP, per account from one IP, and per account from everywhere (ACCOUNT_RATE_LIMITS). And where sign-in
leads: back to a booking chosen before signing in (booking_draft), if one is kept.

allauth alone counts an account's failures from everyone together, so five wrong passwords typed by
anyone lock the owner out. Here the tight count is per account *and* client IP; a looser count per
account stops a guess spread over many addresses. A successful password reset clears both.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit  # as allauth's own adapter: consume() gives a usage to roll back
from allauth.core.internal.httpkit import clean_client_ip
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import booking_draft


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        """A visitor who chose a time before logging in goes on to book it."""
        return booking_draft.resume_url(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request) -> str:
        """The same after signing up: with mandatory e-mail verification this runs when the confirmation link,
        opened in the same browser, logs the new member in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION); the session,
        and the draft in it, survive sign-up, confirmation and login."""
        return booking_draft.resume_url(request) or super().get_signup_redirect_url(request)

    def save_user(self, request, user, form, commit=True):
        """Sign-up from the page that showed a kept choice takes it on (it is booked once the e-mail is confirmed)."""
        user = super().save_user(request, user, form, commit=commit)
        if user.pk:
            booking_draft.bind(request, user.pk)
        return user

    def post_login(self, request, user, *, redirect_url, **kwargs):
        """A kept choice goes on only with the member who signed in from the page that showed it, and only when
        the sign-in is not headed elsewhere (a `next`); any other sign-in on this browser forgets it."""
        booking_draft.bind(request, user.pk)
        if redirect_url and redirect_url != booking_draft.resume_url(request):
            booking_draft.discard(request)
        return super().post_login(request, user, redirect_url=redirect_url, **kwargs)

    def get_client_ip(self, request) -> str:
        """allauth's answer, except that a request through fewer proxies than TRUSTED_PROXY_COUNT (one sent to
        the inner proxy directly, say) is counted under the first address it names instead of failing (a 500)."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            hops = request.headers.get("x-forwarded-for", "").split(",")
            first = clean_client_ip(hops[0].strip()) if settings.ALLAUTH_TRUSTED_PROXY_COUNT else None
            return first or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Key of the per-account-and-IP count (allauth's `login_failed` action)."""
        return f"{self._account_key(**credentials)}:{self.get_client_ip(request)}"

    @staticmethod
    def _account_key(**credentials) -> str:
        return "account:" + credentials.get("email", credentials.get("username", "")).strip().lower()

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)  # per IP, per account from this IP
        self._account_rl_usage = ratelimit.consume(
            request, app="allauth.account", action="login_failed_account", key=self._account_key(**credentials)
        )
        if not self._account_rl_usage:
            self._rollback_login_failed_rl_usage()
            raise self.validation_error("too_many_login_attempts")

    def _rollback_login_failed_rl_usage(self) -> None:
        """A successful login takes back what its own attempt counted (allauth's rule), in every count."""
        super()._rollback_login_failed_rl_usage()
        usage = getattr(self, "_account_rl_usage", None)
        if usage:
            usage.rollback()
        self._account_rl_usage = None

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """After a successful password reset the owner can sign in again, whoever caused the lockout."""
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request, app="allauth.account", action="login_failed_account", key=self._account_key(**credentials)
        )
