from django.urls import path

from core.views import ComingSoonView

app_name = "sms"

urlpatterns = [
    path("", ComingSoonView.as_view(app_label="sms"), name="index"),
]
