from django.urls import path

from core.views import ComingSoonView

app_name = "recruitment"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="recruitment"), name="index"),
]
