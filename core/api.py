"""core's API: shared pagination and the one error shape; geography, offices, me."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    return drf_exception_handler(exc, context)


def register(router) -> None:
    pass


urlpatterns: list = []
