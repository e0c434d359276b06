"""/api/v1/: every app's API under one router and its own paths."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from complaints.api import ComplaintCategoriesApi, ComplaintCodeApi, ComplaintFileApi, ComplaintTrackApi
from core import api as core_api
from evp.api import VotingDetailsLookupApi
from results import api as results_api

router = DefaultRouter()
core_api.register(router)
results_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    *core_api.urlpatterns,
    *results_api.urlpatterns,
    path("evp/lookup/", VotingDetailsLookupApi.as_view(), name="evp-lookup"),
    path("complaints/", ComplaintFileApi.as_view(), name="complaints-file"),
    path("complaints/code/", ComplaintCodeApi.as_view(), name="complaints-code"),
    path("complaints/track/", ComplaintTrackApi.as_view(), name="complaints-track"),
    path("complaints/categories/", ComplaintCategoriesApi.as_view(), name="complaints-categories"),
]
