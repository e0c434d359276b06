from django.urls import path

from core.views import ComingSoonView

app_name = "ivr"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="ivr"), name="index"),
]
