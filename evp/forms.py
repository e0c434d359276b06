from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckVoteForm(forms.Form):
    """Checked here for presence and length only; the CNIC rules are the lookup service's. The page draws the
    input itself (templates/evp/check.html: numeric keypad, left-to-right, never autocompleted)."""

    cnic = forms.CharField(
        label=_("CNIC number"),
        max_length=40,
        help_text=_("13 digits, with or without dashes, for example"),
        error_messages={"required": _("Enter your CNIC number.")},
    )
