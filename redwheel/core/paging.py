"""Pagination: `paginate` for staff and driver pages, `ApiPagination` for the JSON API.

Pages: `?page=` picks the page, out of range (or not a number) gives the last or the first.
API: `?page=` and `?page_size=` are bounded, so an absurd page number answers 400 in the one
error shape instead of overflowing the database's OFFSET (a 500 on SQLite and PostgreSQL).
"""

from django.core.paginator import Page, Paginator
from ninja import Field
from ninja.pagination import PageNumberPagination

from redwheel.core.api_schemas import InputSchema

# 10**6 pages of at most 1,000 rows reach 10**9 rows, beyond any list here, and keep every
# OFFSET far below a 64-bit integer.
API_MAX_PAGE = 1_000_000
API_MAX_PAGE_SIZE = 1_000


def paginate(request, items, per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


class PageInput(InputSchema):
    page: int = Field(1, ge=1, le=API_MAX_PAGE)
    page_size: int | None = Field(None, ge=1, le=API_MAX_PAGE_SIZE)


class ApiPagination(PageNumberPagination):
    """ninja's page-number pagination with bounded parameters (`?page=`, `?page_size=`)."""

    Input = PageInput
