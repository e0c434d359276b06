from django.urls import path

from core.views import ComingSoonView

app_name = "evp"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="evp"), name="index"),
]
