from django.urls import path

from . import views, views_staff, views_tools

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("jobs/<uuid:job_id>/progress.json", views.job_progress, name="job_progress"),
    path("staff/", views_staff.StaffHomeView.as_view(), name="staff_home"),
    path("staff/audit/", views_tools.AuditChainView.as_view(), name="audit_chain"),
    path("staff/geography/import/", views_tools.SchemeImportView.as_view(), name="scheme_import"),
    path("staff/login/", views_staff.StaffLoginView.as_view(), name="staff_login"),
    path("staff/login/verify/", views_staff.OtpVerifyView.as_view(), name="staff_otp_verify"),
    path("staff/login/enrol/", views_staff.OtpEnrolView.as_view(), name="staff_otp_enrol"),
    path("staff/logout/", views_staff.StaffLogoutView.as_view(), name="staff_logout"),
]
