"""The admin site (being made two-factor: see issue 2)."""

from django.contrib import admin

admin_site = admin.site
