"""Top-level URLs.

Public and staff pages are under i18n_patterns: English at /, Urdu at /ur/.
The admin, the API, webhooks and /healthz are language-neutral.
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.admin_site import admin_site
from core.views import health

urlpatterns = [
    path("healthz", health, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin_site.urls),
    path("api/v1/", include("ecp_portal.api_urls")),
    path("sms/", include("sms.urls_webhooks")),  # provider webhooks: /sms/status/, /sms/inbound/
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns += i18n_patterns(
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("core.urls")),
    *[path(f"{app}/", include(f"{app}.urls")) for app in settings.INITIATIVE_APPS],
    prefix_default_language=False,
)

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
