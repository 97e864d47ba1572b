"""A branch's calendar over JSON: its upcoming meetings with their sessions, for platform
apps to remind their drivers (token scope `party:read`, branches of the token's platform's
party organisation only) and for staff (browser session, branches in their grants).
Out-of-scope or unknown branches answer 404."""

from datetime import datetime

from ninja import Field, Router, Schema

from redwheel.accounts.api_auth import PlatformTokenAuth
from redwheel.core.api_auth import MAX_ID, session_auth
from redwheel.core.api_schemas import error_responses
from redwheel.core.errors import NotFound
from redwheel.party.meetings import selectors

router = Router(tags=["party-meetings"])
# A staff session first (it answers None without one), then a platform token.
auth = [session_auth, PlatformTokenAuth("party:read")]


class SessionOut(Schema):
    label: str = Field(examples=["午间场"])
    starts_at: datetime
    ends_at: datetime


class MeetingOut(Schema):
    id: int
    type: str = Field(examples=["branch_assembly"], description="The meeting type's code.")
    type_name: str = Field(examples=["支部党员大会"])
    title: str
    status: str = Field(examples=["planned"], description="planned or held")
    place: str
    online_link: str
    themed_day: bool = Field(description="Adopted from the committee's themed party day.")
    sessions: list[SessionOut]


class CalendarOut(Schema):
    branch_id: int
    branch: str
    meetings: list[MeetingOut]


@router.get(
    "/party/branches/{unit_id}/meetings",
    auth=auth,
    response={200: CalendarOut, **error_responses(404)},
)
def branch_calendar(request, unit_id: int):
    """The branch's meetings that are not over yet (planned or held), earliest first, with
    every session. No attendance or personal data."""
    if not 0 < unit_id <= MAX_ID:
        raise NotFound()
    branch, meetings = selectors.branch_calendar(request.auth, unit_id)
    return CalendarOut(
        branch_id=branch.pk,
        branch=branch.name,
        meetings=[
            MeetingOut(
                id=m.pk,
                type=m.type.code,
                type_name=m.type.name,
                title=m.title,
                status=m.status,
                place=m.place,
                online_link=m.online_link,
                themed_day=m.theme_id is not None,
                sessions=[
                    SessionOut(label=s.label, starts_at=s.starts_at, ends_at=s.ends_at)
                    for s in m.sessions.all()
                ],
            )
            for m in meetings[:200]
        ],
    )
