from django.urls import path

from . import views

app_name = "evp"

urlpatterns = [
    path("", views.CheckVoteView.as_view(), name="index"),
    path("staff/", views.DashboardView.as_view(), name="dashboard"),
    path("staff/blocks/<int:pk>/lift/", views.BlockLiftView.as_view(), name="block_lift"),
]
