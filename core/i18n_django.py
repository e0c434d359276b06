"""Strings of Django's own that its Urdu catalogue leaves untranslated, repeated here so `make messages` keeps
them in ours (which Django reads first): the durations of the ``timesince`` filter ("3 hours, 5 minutes"),
shown on the public complaint tracking page. Never imported; only read by makemessages."""

from django.utils.translation import ngettext_lazy

TIME_STRINGS = (
    ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
)
