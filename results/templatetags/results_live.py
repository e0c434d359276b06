"""Figures as the results pages print them."""

from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """A whole number with thousands separators (12,345); "—" when there is none."""
    if value is None or value == "":
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
