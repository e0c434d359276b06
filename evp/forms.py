from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckVoteForm(forms.Form):
    cnic = forms.CharField(
        label=_("CNIC number"),
        max_length=40,
        help_text=_("13 digits, with or without dashes, for example"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr", "placeholder": "12345-1234567-1"}
        ),
        error_messages={"required": _("Enter your CNIC number.")},
    )
