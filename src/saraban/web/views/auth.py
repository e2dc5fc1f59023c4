"""Sign in and sign out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView

from saraban.web.i18n import text


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


class SignInView(LoginView):
    """The sign-in page; a signed-in visitor goes straight on (to /work/ unless ``next`` says otherwise)."""

    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    """Sign out (POST only, as Django requires), then back to the sign-in page."""

    next_page = "/accounts/login/"
