from django.urls import include, path

from . import views, views_forms, views_live

app_name = "results"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("", include("results.urls_exports")),
    path("contests/<int:contest_id>/", views.DashboardView.as_view(), name="dashboard"),
    path("contests/<int:contest_id>/dashboard.json", views.DashboardJsonView.as_view(), name="dashboard_json"),
    path("contests/<int:contest_id>/entry/", views.EntryView.as_view(), name="entry"),
    path("contests/<int:contest_id>/mismatches/", views.MismatchListView.as_view(), name="mismatches"),
    path(
        "contests/<int:contest_id>/mismatches/<int:station_id>/",
        views.MismatchDetailView.as_view(),
        name="mismatch_detail",
    ),
    path("contests/<int:contest_id>/postal/", views_forms.PostalBallotsView.as_view(), name="postal"),
    path("contests/<int:contest_id>/forms/<str:form>/", views_forms.ProduceFormView.as_view(), name="produce_form"),
    path("forms/<int:version_id>/", views_forms.FormVersionView.as_view(), name="form_version"),
    path("forms/<int:version_id>/<str:language>.pdf", views_forms.FormPdfView.as_view(), name="form_pdf"),
    path("", include("results.urls_photos")),
    # Public live results (no login).
    path("live/", views_live.start, name="live_start"),
    path("live/<slug:election_code>/", views_live.ElectionPage.as_view(), name="live_election"),
    path("live/<slug:election_code>/regions.json", views_live.ElectionRegions.as_view(), name="live_election_regions"),
    path("live/<slug:election_code>/live.json", views_live.ElectionData.as_view(), name="live_election_data"),
    path(
        "live/<slug:election_code>/province/<slug:province_code>/",
        views_live.ProvincePage.as_view(),
        name="live_province",
    ),
    path(
        "live/<slug:election_code>/province/<slug:province_code>/regions.json",
        views_live.ProvinceRegions.as_view(),
        name="live_province_regions",
    ),
    path(
        "live/<slug:election_code>/province/<slug:province_code>/live.json",
        views_live.ProvinceData.as_view(),
        name="live_province_data",
    ),
    path("live/<slug:election_code>/<str:constituency_code>/", views_live.ContestPage.as_view(), name="live_contest"),
    path(
        "live/<slug:election_code>/<str:constituency_code>/regions.json",
        views_live.ContestRegions.as_view(),
        name="live_contest_regions",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/live.json",
        views_live.ContestData.as_view(),
        name="live_contest_data",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/chain.json",
        views_live.ContestChain.as_view(),
        name="live_contest_chain",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/forms/<int:version_id>/<str:language>.pdf",
        views_live.PublicFormPdf.as_view(),
        name="live_form_pdf",
    ),
]
