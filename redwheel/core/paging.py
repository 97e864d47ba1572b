"""Pagination of staff and driver lists: `?page=` picks the page, out-of-range gives the last."""

from django.core.paginator import Page, Paginator


def paginate(request, items, per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))
