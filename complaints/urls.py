from . import views_public, views_reports, views_staff

app_name = "complaints"

# Each screen module owns its paths: the public pages (filing, tracking), the desks' screens, the reports.
urlpatterns = [*views_public.urlpatterns, *views_staff.urlpatterns, *views_reports.urlpatterns]
