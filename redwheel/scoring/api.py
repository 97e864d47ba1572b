"""Platform look-ups: badges and scores for batches of LicenseIds (docs/api.md, docs/scoring.md).

Both endpoints answer only about drivers affiliated with the token's platform, are cacheable
(ETag / If-None-Match → 304) and are rate-limited per token (429 with Retry-After).
"""

from datetime import date
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Router, Schema
from pydantic import StringConstraints

from redwheel.accounts.api_auth import PlatformTokenAuth
from redwheel.core.api_schemas import THROTTLED, BodyIn, error_responses
from redwheel.core.permissions import acting_platform
from redwheel.scoring import lookup
from redwheel.scoring.auth import rate_limited_cached_authenticate

router = Router(tags=["platform"])

LOOKUP_MAX = 500
LicenseId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class LookupIn(BodyIn):
    license_ids: list[LicenseId] = Field(
        max_length=LOOKUP_MAX,
        examples=[["510107199001010011", "510104198805050022"]],
        description=f"Licence (ID) numbers, at most {LOOKUP_MAX}. Order and duplicates are kept.",
    )


class BadgeOut(Schema):
    license_id: str
    known: bool = Field(description="The driver is affiliated with the calling platform.")
    badge: bool = Field(description="Show the party-member badge for this driver.")


class BadgeLookupOut(Schema):
    results: list[BadgeOut]


class ScoreOut(Schema):
    license_id: str
    known: bool = Field(description="The driver is affiliated with the calling platform.")
    score: float | None = Field(description="Composite score 0–100 of the latest daily snapshot.")
    credit_grade: str | None = Field(examples=["AAA"], description="AAA, AA, A or B.")
    as_of: date | None = Field(description="Day of the snapshot (Asia/Shanghai).")
    rule_book_version: int | None
    components: dict[str, float] | None = Field(
        examples=[{"service": 36.1, "safety": 35.0, "credit": 15.0, "community": 2.0}],
        description="Points each component contributes (they add up to the score).",
    )


class ScoreLookupOut(Schema):
    results: list[ScoreOut]


def _answer(request, body: bytes) -> HttpResponse:
    etag = lookup.etag(body)
    if lookup.etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


RESPONSES_BADGES = {200: BadgeLookupOut, 304: None, **error_responses(*THROTTLED)}
RESPONSES_SCORES = {**RESPONSES_BADGES, 200: ScoreLookupOut}


@router.post(
    "/badges:lookup",
    response=RESPONSES_BADGES,
    auth=PlatformTokenAuth("badges:read", verify=rate_limited_cached_authenticate),
    summary="Badges for a batch of licence numbers (token scope badges:read)",
)
def badges_lookup(request, payload: LookupIn):
    platform_id = acting_platform(request.auth)  # the token is a platform principal
    return _answer(request, lookup.badges_body(platform_id, payload.license_ids))


@router.post(
    "/scores:lookup",
    response=RESPONSES_SCORES,
    auth=PlatformTokenAuth("scores:read", verify=rate_limited_cached_authenticate),
    summary="Scores and credit grades for a batch of licence numbers (token scope scores:read)",
)
def scores_lookup(request, payload: LookupIn):
    platform_id = acting_platform(request.auth)
    return _answer(request, lookup.scores_body(platform_id, payload.license_ids))


class PingOut(Schema):
    ok: bool


@router.get(
    "/ping",
    response=PingOut,
    auth=None,
    summary="Liveness check (no authentication, no database or cache work)",
)
def ping(request):
    return {"ok": True}
