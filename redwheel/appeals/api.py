"""Appeals over JSON for platforms (token scope `appeals:write`).

A platform files an appeal on behalf of one of its own drivers (identified by the licence
number, LicenseId) and reads the status and timeline of the appeals it filed or that concern
its drivers. Send `Idempotency-Key: <your unique id>` when filing: a retried request with the
same key answers 200 with the case the first request created, never a second case.
"""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.responses import Status

from redwheel.accounts.api_auth import PlatformTokenAuth
from redwheel.appeals import services
from redwheel.appeals.models import Case, Category
from redwheel.core import crypto
from redwheel.core.api_schemas import BodyIn, SafeStr, api_enum, error_responses
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, acting_platform, get_or_404, scope
from redwheel.core.validators import clean_identity_number, reject_unsafe_text
from redwheel.drivers.models import Driver

router = Router(tags=["appeals"])
auth = PlatformTokenAuth("appeals:write")
AppealCategory = api_enum("AppealCategory", Category)


class AppealIn(BodyIn):
    license_id: str = Field(
        min_length=6,
        max_length=32,
        examples=["510107199001010011"],
        description="The driver's LicenseId as in the exchange format.",
    )
    category: AppealCategory = Field(examples=["income"])
    title: str = Field(min_length=1, max_length=120, examples=["抽成超过公布上限"])
    description: str = Field(min_length=1, max_length=4000)
    external_ref: str = Field("", max_length=64, description="Your own ticket number.")
    punishment_id: int | None = Field(None, description="The ingested penalty contested.")


class AppealActivityOut(Schema):
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
    category: AppealCategory
    title: str
    external_ref: str
    created_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    answer: str
    answered_at: datetime | None
    satisfied: bool | None
    timeline: list[AppealActivityOut]


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


def _principal(request) -> SystemActor:
    """The token acts for its platform and nothing else; its steps are logged under its label."""
    token = request.auth
    return SystemActor.for_platform(token.platform_id, f"platform:{token.platform.company_id}")


def _platform_driver(principal, license_id: str) -> Driver:
    """One of the platform's own drivers, still driving for it; NotFound otherwise. A number
    that can be no one's (the kernel's identity rule) is refused with its own code, so the
    platform learns that it sent a wrong number, not that the driver is unknown."""
    license_id = clean_identity_number(license_id)
    driver = (
        scope(principal, "change", Driver.objects.all())
        .filter(
            license_index=crypto.blind_index(license_id),
            affiliations__platform_id=acting_platform(principal),
            affiliations__is_active=True,
        )
        .first()
    )
    if driver is None:
        raise NotFound()
    return driver


@router.post(
    "/appeals",
    auth=auth,
    response={200: AppealOut, 201: AppealOut, **error_responses(404, 409)},
    summary="File an appeal on a driver's behalf (token scope appeals:write)",
    tags=["platform"],
)
def appeal_file(request, payload: AppealIn):
    principal = _principal(request)
    platform = request.auth.platform
    driver = _platform_driver(principal, payload.license_id)
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
    reject_unsafe_text(key)
    case, created = services.case_file(
        actor=principal,
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
    return Status(201 if created else 200, _out(case))


@router.get(
    "/appeals/{number}",
    auth=auth,
    response={200: AppealOut, **error_responses(404)},
    summary="Status and timeline of one appeal (token scope appeals:write)",
    tags=["platform"],
)
def appeal_status(request, number: SafeStr):
    case = get_or_404(
        _principal(request), "view", Case.objects.select_related("unit"), number=number
    )
    return _out(case)
