from django.urls import path

from core.views import ComingSoonView

app_name = "scrutiny"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="scrutiny"), name="index"),
]
