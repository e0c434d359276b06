from django.urls import path

from core.views import ComingSoonView

app_name = "results"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="results"), name="index"),
]
