from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=N&page_size=M` (API_PAGE_SIZE by default, at most API_MAX_PAGE_SIZE)."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE
        return super().get_page_size(request)
