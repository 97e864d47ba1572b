"""The pages' URLs before issue 13 (pages by audience): one table of old prefix → new prefix.

Included last from config/urls.py, so a live page always wins over a redirect. An old URL
answers with its new home, the rest of the path and the query string kept: 301 for GET and
HEAD, 308 for any other method (a 301 lets clients turn a POST into a GET, losing the form).
The answer is a redirect only when the new path is a page; otherwise 404, as for any unknown
URL. Nothing is looked up and no one needs to be signed in: the page itself checks its
audience after the redirect. redwheel/tests/test_legacy_urls.py walks every URL pattern of
that time (redwheel/tests/data/old_urls.json).
"""

import re

from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import Resolver404, get_script_prefix, re_path, resolve
from django.utils.encoding import escape_uri_path

# Longest prefix first among overlapping ones; pages still at their old path (/staff/,
# /staff/drivers/, /staff/imports/, /staff/exchange/, /me/, /appeals/<id>/, /scoring/rules/)
# never reach this table.
PREFIXES = [
    ("staff/exchange/me/", "me/metrics/"),
    ("staff/units/", "staff/orgs/units/"),
    ("staff/grants/", "staff/orgs/grants/"),
    ("staff/platforms/", "staff/orgs/platforms/"),
    ("staff/tokens/", "staff/orgs/tokens/"),
    ("staff/agreements/", "staff/orgs/agreements/"),
    ("staff/coverage/", "staff/insights/coverage/"),
    ("staff/verification/", "staff/drivers/verification/"),
    ("scoring/staff/", "staff/scoring/"),
    ("scoring/me/", "me/score/"),
    ("sandbox/", "staff/sandbox/"),
    ("appeals/me/", "me/appeals/"),
    ("appeals/", "staff/appeals/"),
    ("mobilization/me/", "me/mobilization/"),
    ("mobilization/", "staff/mobilization/"),
    ("core/inbox/", "inbox/"),
    ("core/audit/", "staff/audit/"),
]


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


def moved(request, rest: str, new: str):
    target = new + rest
    try:
        resolve("/" + target)
    except Resolver404:
        raise Http404 from None
    location = escape_uri_path(get_script_prefix() + target)
    if request.META.get("QUERY_STRING"):
        location += "?" + request.META["QUERY_STRING"]
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(location)
    return PermanentRedirectKeepingMethod(location)


moved.csrf_exempt = True  # it changes nothing; the page it points to checks the token

urlpatterns = [
    re_path(rf"^{re.escape(old)}(?P<rest>.*)$", moved, {"new": new})
    for old, new in sorted(PREFIXES, key=lambda pair: -len(pair[0]))
]
