"""Exchange batch API: `POST /api/v1/exchange/{recordType}` with a JSON array of records.

Authentication is a platform token with the `exchange:write` scope; the platform is the
token's, and records naming another CompanyId are rejected one by one (`foreign_company`).
"""

import json

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from redwheel.accounts.api_auth import PlatformTokenAuth
from redwheel.accounts.models import TokenScope
from redwheel.core.api_schemas import error_responses
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor
from redwheel.exchange import services
from redwheel.exchange.models import Source
from redwheel.exchange.records import RECORD_TYPES

router = Router(tags=["exchange"])


class RejectionOut(Schema):
    index: int
    field: str
    code: str
    message: str
    message_zh: str
    message_en: str


class BatchOut(Schema):
    batch_id: int
    record_type: str
    received: int
    accepted: int
    unchanged: int
    rejected: int
    rejections: list[RejectionOut]


@router.post(
    "exchange/{record_type}",
    auth=PlatformTokenAuth(TokenScope.EXCHANGE_WRITE),
    summary="Push one batch of exchange records",
    response={200: BatchOut, **error_responses(404)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
            },
        }
    },
)
def push_batch(request: HttpRequest, record_type: str):
    """Body: a JSON array (at most EXCHANGE_MAX_BATCH records) of one record type.

    Answers `{"batch_id", "record_type", "received", "accepted", "unchanged", "rejected",
    "rejections": [{"index", "field", "code", "message", "message_zh", "message_en"}]}`.
    """
    if record_type not in RECORD_TYPES:
        raise NotFound(
            _("Unknown record type."),
            code="unknown_record_type",
            details={"record_types": list(RECORD_TYPES)},
        )
    records = _parse(request.body)
    token = request.auth
    result = services.ingest(
        actor=SystemActor.for_platform(token.platform_id, f"platform token {token.key_prefix}"),
        platform=token.platform,
        record_type=record_type,
        records=records,
        source=Source.API,
        source_name=f"token {token.key_prefix}",
    )
    return result.as_dict()


def _parse(body: bytes) -> list:
    try:
        records = json.loads(body)
    except (ValueError, RecursionError):
        raise ValidationFailed(_("The body is not valid JSON."), code="invalid_json") from None
    if not isinstance(records, list):
        raise ValidationFailed(_("The body must be a JSON array of records."), code="not_an_array")
    if not records:
        raise ValidationFailed(_("The batch is empty."), code="empty_batch")
    limit = settings.EXCHANGE_MAX_BATCH
    if len(records) > limit:
        raise ValidationFailed(
            _("A batch holds at most %(limit)s records.") % {"limit": limit},
            code="batch_too_large",
            details={"limit": limit, "received": len(records)},
        )
    return records
