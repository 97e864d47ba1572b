"""Mobilization over JSON: drivers list their calls and answer them from the app; staff read
the live board figures. Session auth (same as the pages). Out-of-scope ids answer 404."""

from datetime import datetime

from ninja import Field, Router, Schema

from redwheel.core.api_auth import session_acting_on, session_auth
from redwheel.core.api_schemas import BodyIn, error_responses
from redwheel.mobilization import selectors, services
from redwheel.mobilization.models import AlertRecipient, Call, ResponseStatus

router = Router(tags=["mobilization"], auth=session_auth)


class CallOut(Schema):
    # Published field names keep the spelling clients already read.
    mobilisation_id: int
    title: str
    hub: str
    lng: float
    lat: float
    status: str = Field(description="open, closed or cancelled")
    starts_at: datetime
    ends_at: datetime
    my_answer: ResponseStatus | None


class AnswerIn(BodyIn):
    status: ResponseStatus = Field(examples=["received"])


class AnswerOut(Schema):
    mobilisation_id: int
    status: ResponseStatus
    changed: bool = Field(description="False when the answer repeats one already recorded.")


class BoardOut(Schema):
    id: int
    status: str
    called: int
    responded: int
    received: int
    on_my_way: int
    arrived: int
    cant_come: int
    rides: int
    passengers: int
    waiting_passengers: int
    summary: dict = Field(description="The closing summary once closed; empty before.")


class SightingIn(BodyIn):
    lng: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    note: str = Field(min_length=1, max_length=500)


class SightingOut(Schema):
    id: int
    alert_id: int


@router.get("/mobilizations/my-calls", response={200: list[CallOut], **error_responses(404)})
def my_calls(request):
    """The signed-in driver's calls, newest first, with their current answer."""
    driver = selectors.own_driver(request.auth)
    return [
        CallOut(
            mobilisation_id=c.mobilization_id,
            title=c.mobilization.title,
            hub=c.mobilization.hub.name,
            lng=c.mobilization.hub.lng,
            lat=c.mobilization.hub.lat,
            status=c.mobilization.status,
            starts_at=c.mobilization.starts_at,
            ends_at=c.mobilization.ends_at,
            my_answer=c.response.status if c.response else None,
        )
        for c in selectors.my_calls(request.auth, driver)
    ]


@router.post(
    "/mobilizations/{mobilization_id}/answer",
    auth=session_acting_on(
        lambda: Call.objects.all(), "change", kwarg="mobilization_id", field="mobilization_id"
    ),
    response={200: AnswerOut, **error_responses(404, 409)},
)
def answer(request, mobilization_id: int, body: AnswerIn):
    """Answer a call: received / on_my_way / arrived / cant_come. Idempotent; refused with
    409 `mobilization_closed` once the mobilization has ended."""
    driver = selectors.own_driver(request.auth)
    mobilization = selectors.my_call(request.auth, driver, mobilization_id).mobilization
    response, changed = services.response_record(
        actor=request.auth, mobilization=mobilization, status=body.status
    )
    return AnswerOut(mobilisation_id=mobilization_id, status=response.status, changed=changed)


@router.get(
    "/mobilizations/{mobilization_id}/board", response={200: BoardOut, **error_responses(404)}
)
def board(request, mobilization_id: int):
    """Live figures for staff in scope (the same numbers as the htmx board)."""
    m = selectors.mobilization_detail(request.auth, mobilization_id)
    b = selectors.board(m)
    return BoardOut(
        id=m.pk,
        status=m.status,
        summary=m.summary,
        **{
            k: b[k]
            for k in (
                "called",
                "responded",
                "received",
                "on_my_way",
                "arrived",
                "cant_come",
                "rides",
                "passengers",
                "waiting_passengers",
            )
        },
    )


@router.post(
    "/alerts/{alert_id}/sightings",
    auth=session_acting_on(
        lambda: AlertRecipient.objects.all(), "change", kwarg="alert_id", field="alert_id"
    ),
    response={201: SightingOut, **error_responses(404, 409)},
)
def sighting(request, alert_id: int, body: SightingIn):
    """A driver who received the alert reports "seen something"; routed to the sender."""
    driver = selectors.own_driver(request.auth)
    alert = selectors.my_alert(request.auth, driver, alert_id)
    s = services.sighting_report(
        actor=request.auth, alert=alert, lng=body.lng, lat=body.lat, note=body.note
    )
    return 201, SightingOut(id=s.pk, alert_id=alert.pk)
