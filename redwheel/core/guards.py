"""Guards for page views: refuse a principal that may not write *before* reading its input.

A write view first fetches what it acts on for the action the write needs (or, for a create
form, checks that the actor may write in at least one place), and only then binds and
validates its form. A read-only role therefore gets 404, exactly as for an object out of its
scope, never a form error or a redirect. Pages that only read are `require_safe`, so a POST to
them answers 405.
"""

from django.db.models import QuerySet
from django.http import Http404

from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404


def found_or_404(principal, action: str, queryset: QuerySet, **lookup):
    """`permissions.get_or_404` for views: the object, or Http404."""
    try:
        return get_or_404(principal, action, queryset, **lookup)
    except NotFound as exc:
        raise Http404 from exc


def writable_or_404(choices: QuerySet) -> QuerySet:
    """`choices` — the already scoped places a create form may write to (e.g. the units the
    actor may `change`) — or Http404 when there is none: the actor may not create here."""
    if not choices.exists():
        raise Http404
    return choices


def reads_by_post(view):
    """Mark a view whose POST is a read, not a write: it takes its input by POST only to keep
    it out of URLs and access logs (a search by a full phone number). The tenancy matrix
    expects such a POST to answer with the GET page it redirects to, and to change nothing."""
    view.reads_by_post = True
    return view
