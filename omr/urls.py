"""The OMR staff screens (English at /omr/…, Urdu at /ur/omr/…): exams, printing, scan batches, review,
scores and merit lists."""

from django.urls import path

from . import views, views_results, views_scan

app_name = "omr"

urlpatterns = [
    path("", views.ExamListView.as_view(), name="index"),
    path("new/", views.ExamCreateView.as_view(), name="exam_new"),
    path("<slug:code>/", views.ExamView.as_view(), name="exam"),
    path("<slug:code>/key/", views.CsvImportView.as_view(kind="key"), name="key_import"),
    path("<slug:code>/candidates/", views.CsvImportView.as_view(kind="candidates"), name="candidates_import"),
    path("<slug:code>/key-sample.csv", views.SampleView.as_view(kind="key"), name="key_sample"),
    path("<slug:code>/candidates-sample.csv", views.SampleView.as_view(kind="candidates"), name="candidates_sample"),
    path("<slug:code>/print/", views.PrintView.as_view(), name="print"),
    path("<slug:code>/layout.pdf", views.LayoutPreviewView.as_view(), name="layout_preview"),
    path("<slug:code>/batches/", views_scan.BatchListView.as_view(), name="batches"),
    path("<slug:code>/batches/<uuid:pk>/", views_scan.BatchView.as_view(), name="batch"),
    path("<slug:code>/batches/<uuid:pk>/progress.json", views_scan.BatchProgressView.as_view(), name="batch_progress"),
    path("<slug:code>/review/", views_scan.ReviewQueueView.as_view(), name="review"),
    path("<slug:code>/review/next/", views_scan.ReviewNextView.as_view(), name="review_next"),
    path("<slug:code>/sheets/<int:pk>/", views_scan.SheetView.as_view(), name="sheet"),
    path("<slug:code>/sheets/<int:pk>/overlay.png", views_scan.OverlayView.as_view(), name="overlay"),
    path("<slug:code>/results/", views_results.ResultsView.as_view(), name="results"),
    path("<slug:code>/score/", views_results.ScoreView.as_view(), name="score"),
    path("<slug:code>/publish/", views_results.PublishView.as_view(), name="publish"),
    path("<slug:code>/merit/", views_results.MeritView.as_view(), name="merit"),
    path("<slug:code>/merit/v<int:version>/", views_results.MeritView.as_view(), name="merit_version"),
    path("<slug:code>/merit/v<int:version>/merit.csv", views_results.MeritCsvView.as_view(), name="merit_csv"),
    path("<slug:code>/merit/v<int:version>/merit.pdf", views_results.MeritPdfView.as_view(), name="merit_pdf"),
]
