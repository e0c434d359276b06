"""The provider webhooks: outside the language prefix (ecp_portal/urls.py), signed, no CSRF."""

from django.urls import path

from . import webhooks

app_name = "sms_hooks"

urlpatterns = [
    path("status/", webhooks.status, name="status"),
    path("inbound/", webhooks.inbound, name="inbound"),
]
