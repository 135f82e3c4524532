"""Password reset by email, Django's views in the console's look. Every address gets the same answer,
account or not; an address gets at most RESETS_PER_HOUR emails, so the form cannot flood an inbox."""

import hashlib

from django.contrib.auth.views import PasswordResetView
from django.http import HttpResponseRedirect
from django.urls import reverse

from lib.http import absolute_url
from lib.rate_limit import hit

RESETS_PER_HOUR = 3


class ConsolePasswordResetView(PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        # The link's start: CONSOLE_BASE_URL, or the address this request came to.
        self.extra_email_context = {"base_url": absolute_url(self.request, "/").rstrip("/")}
        email = form.cleaned_data["email"].strip().lower()
        window = hit(f"password-reset:{hashlib.sha256(email.encode()).hexdigest()}", limit=RESETS_PER_HOUR, window_seconds=3600)
        if not window.allowed:
            # The same answer as a sent email: the page never tells whether the address has an account.
            return HttpResponseRedirect(reverse("password_reset_done"))
        return super().form_valid(form)
