"""The SMS staff screens (English at /sms/…, Urdu at /ur/sms/…). The provider webhooks are elsewhere:
sms/urls_webhooks.py, outside the language prefix."""

from django.urls import path

from . import views

app_name = "sms"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("contacts/", views.ContactListView.as_view(), name="contacts"),
    path("contacts/import/", views.ContactImportView.as_view(), name="contact_import"),
    path("contacts/sample.csv", views.sample_csv, name="contacts_sample"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_new"),
    path("campaigns/<int:pk>/", views.CampaignView.as_view(), name="campaign"),
    path("campaigns/<int:pk>/counts.json", views.campaign_counts, name="campaign_counts"),
    path("campaigns/<int:pk>/messages.csv", views.campaign_export, name="campaign_export"),
    # approve, reject, pause, resume, cancel (a GET of cancel is its confirmation page)
    path("campaigns/<int:pk>/<slug:action>/", views.CampaignActionView.as_view(), name="campaign_action"),
    path("messages/", views.MessageSearchView.as_view(), name="messages"),
    path("reports/", views.ReportsView.as_view(), name="reports"),
    path("segments/", views.segments, name="segments"),
]
