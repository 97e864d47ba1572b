"""Appeals over JSON for platforms (token scope `appeals:write`).

A platform files an appeal on behalf of one of its own drivers (identified by the licence
number, LicenseId) and reads the status and timeline of the appeals it filed or that concern
its drivers. Send `Idempotency-Key: <your unique id>` when filing: a retried request with the
same key answers 200 with the case the first request created, never a second case.
"""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.responses import Status

from redwheel.accounts.permissions import SystemActor
from redwheel.appeals import services
from redwheel.appeals.models import Case, Category
from redwheel.core import crypto
from redwheel.core.api_auth import PlatformTokenAuth
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.drivers.models import Driver

router = Router(tags=["appeals"])
auth = PlatformTokenAuth("appeals:write")


class AppealIn(Schema):
    license_id: str = Field(
        min_length=6,
        max_length=32,
        examples=["510107199001010011"],
        description="The driver's LicenseId as in the exchange format.",
    )
    category: Category = Field(examples=["income"])
    title: str = Field(min_length=1, max_length=120, examples=["抽成超过公布上限"])
    description: str = Field(min_length=1, max_length=4000)
    external_ref: str = Field("", max_length=64, description="Your own ticket number.")
    punishment_id: int | None = Field(None, description="The ingested penalty contested.")


class ActivityOut(Schema):
    at: datetime
    action: str
    status: str
    level: int
    unit: str
    note: str


class AppealOut(Schema):
    number: str = Field(examples=["SQ2026000123"])
    status: str = Field(examples=["accepted"])
    level: int = Field(examples=[1])
    unit: str = Field(examples=["甲出行第一支部"])
    category: str
    title: str
    external_ref: str
    created_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    answer: str
    answered_at: datetime | None
    satisfied: bool | None
    timeline: list[ActivityOut]


def _out(case: Case) -> dict:
    return {
        "number": case.number,
        "status": case.status,
        "level": case.level,
        "unit": case.unit.name,
        "category": case.category,
        "title": case.title,
        "external_ref": case.external_ref,
        "created_at": case.created_at,
        "response_due_at": case.response_due_at,
        "resolution_due_at": case.resolution_due_at,
        "answer": case.answer,
        "answered_at": case.answered_at,
        "satisfied": case.satisfied,
        "timeline": [
            {
                "at": a.at,
                "action": a.action,
                "status": a.to_status,
                "level": a.level,
                "unit": a.unit.name,
                "note": a.note,
            }
            for a in case.activities.filter(visible_to_driver=True).select_related("unit")
        ],
    }


def _platform_driver(platform, license_id: str) -> Driver:
    driver = Driver.objects.filter(
        license_index=crypto.blind_index(license_id),
        affiliations__platform=platform,
        affiliations__is_active=True,
    ).first()
    if driver is None:
        raise NotFound()
    return driver


@router.post(
    "/appeals",
    auth=auth,
    response={200: AppealOut, 201: AppealOut},
    summary="File an appeal on a driver's behalf (token scope appeals:write)",
    tags=["platform"],
)
def appeal_file(request, payload: AppealIn):
    platform = request.auth.platform
    driver = _platform_driver(platform, payload.license_id)
    punishment = None
    if payload.punishment_id is not None:
        from redwheel.exchange.models import Punishment

        punishment = Punishment.objects.filter(
            pk=payload.punishment_id, driver=driver, platform=platform
        ).first()
        if punishment is None:
            raise ValidationFailed(code="unknown_punishment")
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 80:
        raise ValidationFailed(code="idempotency_key_too_long")
    case, created = services.case_file(
        actor=SystemActor(f"platform:{platform.company_id}"),
        driver=driver,
        category=payload.category,
        title=payload.title,
        description=payload.description,
        channel=Case.Channel.API,
        platform=platform,
        punishment=punishment,
        idempotency_key=key,
        idempotency_scope=f"platform:{platform.pk}",
        external_ref=payload.external_ref,
    )
    if case.platform_id != platform.pk:  # a key reused for another platform's case
        raise NotFound()
    return Status(201 if created else 200, _out(case))


@router.get(
    "/appeals/{number}",
    auth=auth,
    response=AppealOut,
    summary="Status and timeline of one appeal (token scope appeals:write)",
    tags=["platform"],
)
def appeal_status(request, number: str):
    case = (
        Case.objects.filter(number=number, platform=request.auth.platform)
        .select_related("unit")
        .first()
    )
    if case is None:
        raise NotFound()
    return _out(case)
