"""Staff sign-in with two factors (being built: see issue 2). Placeholder views so URLs resolve."""

from django.contrib.auth import views as auth_views
from django.views.generic import TemplateView


class StaffHomeView(TemplateView):
    template_name = "core/staff/home.html"


class StaffLoginView(auth_views.LoginView):
    template_name = "core/staff/login.html"


class OtpVerifyView(TemplateView):
    template_name = "core/staff/otp_verify.html"


class OtpEnrolView(TemplateView):
    template_name = "core/staff/otp_enrol.html"


class StaffLogoutView(auth_views.LogoutView):
    pass
