"""What the error e-mails to ADMINS may hold (DEFAULT_EXCEPTION_REPORTER_FILTER)."""

from django.views.debug import SafeExceptionReporterFilter


class WithoutFormData(SafeExceptionReporterFilter):
    """Error reports e-mailed to ADMINS leave out what people typed: every form field is hidden (passwords,
    messages), as Sentry gets no request bodies. DEBUG's own error page still shows them."""

    def get_post_parameters(self, request):
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return dict.fromkeys(request.POST, self.cleansed_substitute)
