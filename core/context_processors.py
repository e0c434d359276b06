from django.conf import settings


def site(request):
    """Values every template needs: the site's name and whether this is a development build."""
    return {"SITE_DEBUG": settings.DEBUG, "SITE_PRODUCTION": settings.PRODUCTION}
