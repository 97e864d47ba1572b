"""The driver's party index (/me/party/): one short card per area of party life, each drawn by
that area from its own selector (`me_summary(user)`, None when the area has nothing for the
driver) and template (`<area>/_me_summary.html`)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from redwheel.accounts.decorators import driver_required
from redwheel.party.dues import selectors as dues
from redwheel.party.evaluation import selectors as evaluation
from redwheel.party.meetings import selectors as meetings
from redwheel.party.mobile import selectors as mobile
from redwheel.party.recruitment import selectors as recruitment

# In the order a driver meets them: applying, meeting, paying, evaluating, being away.
AREAS = (
    (recruitment, "recruitment/_me_summary.html"),
    (meetings, "meetings/_me_summary.html"),
    (dues, "dues/_me_summary.html"),
    (evaluation, "evaluation/_me_summary.html"),
    (mobile, "mobile/_me_summary.html"),
)


@driver_required
@require_safe
def me_index(request):
    sections = []
    for selectors, template in AREAS:
        summary = selectors.me_summary(request.user)
        if summary is not None:
            sections.append({"template": template, "summary": summary})
    return render(request, "party/me_index.html", {"sections": sections})
