"""core's forms: the staff sign-in steps (password, authenticator code, backup code), and
``add_domain_error``, which every app's screens use to put a service's refusal beside its field.

They check shape only; whether a code is right is the device's business
(``core/views_staff.py`` asks django-otp, which also throttles guessing).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .exceptions import DomainError

TOTP_DIGITS = 6
_BACKUP_CODE = re.compile(r"^[a-z0-9]{6,16}$")


class StaffAuthenticationForm(AuthenticationForm):
    """Username and password. Uses django.contrib.auth, so django-axes counts the failures."""

    error_messages = {
        "invalid_login": _("That username and password do not match an active staff account. Both are case-sensitive."),
        "inactive": _("This account is switched off. Ask your office's administrator."),
    }

    def __init__(self, request=None, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}
        )
        self.fields["password"].label = _("Password")
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class _StepForm(forms.Form):
    """Labels without the trailing colon, as on the rest of the site."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class OtpTokenForm(_StepForm):
    """The 6-digit code from an authenticator app (sign-in and enrolment)."""

    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        help_text=_("Open your authenticator app and type the code it shows for ECP Portal."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "size": 8,
            }
        ),
        error_messages={"required": _("Enter the 6-digit code from your authenticator app.")},
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not code.isdigit() or len(code) != TOTP_DIGITS:
            raise forms.ValidationError(
                _("Enter the 6 digits your authenticator app shows, without letters."), code="shape"
            )
        return code


class BackupCodeForm(_StepForm):
    """One of the printed backup codes (each works once)."""

    backup_code = forms.CharField(
        label=_("Backup code"),
        max_length=24,
        help_text=_("One of the backup codes you saved when you set up your authenticator. Each works once."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "size": 12}
        ),
        error_messages={"required": _("Enter one of your backup codes.")},
    )

    def clean_backup_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["backup_code"]).lower()
        if not _BACKUP_CODE.match(code):
            raise forms.ValidationError(_("A backup code is 8 letters and digits, like k3m9qz2a."), code="shape")
        return code


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """A service's refusal beside the input it is about (or above the form when it names none of them)."""
    placed = False
    for name, messages in (error.fields or {}).items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
