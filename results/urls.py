from django.urls import path

from . import views, views_forms

app_name = "results"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
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
]
