"""Sign in and sign out.

Failed passwords lock the username, and the address, for a while (``saraban.core.lockout``): while a
lock holds the page answers 429 with ``Retry-After`` and says, in Thai or English, when to try again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse

from saraban.core import lockout
from saraban.web.i18n import text


def locked_message(request: HttpRequest | None, locked: lockout.Locked) -> str:
    """When to try again, in the request's language; the same whether or not the account exists."""
    return text(request, *lockout.messages(locked))


class SignInForm(AuthenticationForm):
    """Django's sign-in form with its messages in the page's language."""

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.error_messages = {
            "invalid_login": text(
                request, "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง (ตัวพิมพ์ใหญ่และเล็กมีผล)",
                "The username or password is not correct (both are case-sensitive)",
            ),
            "inactive": text(request, "บัญชีนี้ถูกระงับการใช้งาน", "This account is inactive"),
        }
        required = text(request, "กรุณากรอกช่องนี้", "Please fill in this field")
        for name, label in (("username", ("ชื่อผู้ใช้", "Username")), ("password", ("รหัสผ่าน", "Password"))):
            field: forms.Field = self.fields[name]
            field.label = text(request, *label)
            field.error_messages["required"] = required
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})
        self.locked: lockout.Locked | None = None

    def clean(self) -> dict[str, Any]:
        """Django's check of the username and password, behind the lockout: a locked username or address
        is refused before any password is checked, a wrong password is counted, the right one clears."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        attempt = lockout.begin(self.request, username)
        if isinstance(attempt, lockout.Locked):
            self.locked = attempt
            raise forms.ValidationError(locked_message(self.request, attempt), code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            attempt.failed()
            raise self.get_invalid_login_error()
        attempt.succeeded()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class SignInView(LoginView):
    """The sign-in page; a signed-in visitor goes straight on (to /work/ unless ``next`` says otherwise)."""

    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        """The form again with its errors; 429 with ``Retry-After`` while the lockout holds."""
        response = super().form_invalid(form)
        locked = getattr(form, "locked", None)
        if isinstance(locked, lockout.Locked):
            response.status_code = 429
            response["Retry-After"] = str(locked.retry_after)
        return response


class SignOutView(LogoutView):
    """Sign out (POST only, as Django requires), then back to the sign-in page."""

    next_page = "/accounts/login/"
