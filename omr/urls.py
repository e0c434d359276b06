from django.urls import path

from core.views import ComingSoonView

app_name = "omr"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="omr"), name="index"),
]
