"""Public downloads of the open result exports, included from results/urls.py (names in the ``results``
namespace): the whole election and one contest, each as CSV and as NIST SP 1500-100 JSON."""

from django.urls import path

from . import views_exports

urlpatterns = [
    path(
        "live/<slug:election_code>/export.csv",
        views_exports.ElectionExportView.as_view(fmt="csv"),
        name="export_election_csv",
    ),
    path(
        "live/<slug:election_code>/export.json",
        views_exports.ElectionExportView.as_view(fmt="json"),
        name="export_election_json",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/export.csv",
        views_exports.ContestExportView.as_view(fmt="csv"),
        name="export_contest_csv",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/export.json",
        views_exports.ContestExportView.as_view(fmt="json"),
        name="export_contest_json",
    ),
]
