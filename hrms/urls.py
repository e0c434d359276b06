from django.urls import path

from core.views import ComingSoonView

app_name = "hrms"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="hrms"), name="index"),
]
