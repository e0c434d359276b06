from django.urls import path

from core.views import ComingSoonView

app_name = "complaints"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="complaints"), name="index"),
]
