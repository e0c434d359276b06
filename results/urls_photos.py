"""URLs of the Form-45 pictures, included from results/urls.py (no app_name: the names live in ``results:``)."""

from django.urls import path

from . import views_photos

urlpatterns = [
    path("photos/upload/", views_photos.PhotoUploadView.as_view(), name="photo_upload"),
    path("photos/<int:photo_id>.<str:ext>", views_photos.PhotoFileView.as_view(), name="photo_file"),
    path("contests/<int:contest_id>/photos/", views_photos.PhotoListView.as_view(), name="photo_list"),
    path(
        "contests/<int:contest_id>/photos/<int:photo_id>/",
        views_photos.PhotoDetailView.as_view(),
        name="photo_detail",
    ),
    path(
        "live/<slug:election_code>/<str:constituency_code>/ps/<int:number>/",
        views_photos.LiveStationView.as_view(),
        name="live_station",
    ),
]
