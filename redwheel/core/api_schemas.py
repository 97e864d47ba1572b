"""Building blocks for the JSON API's schemas: safe input text, the one error shape, enums
with names of their own, and the error responses each operation documents (docs/api.md).
"""

import enum
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator, field_validator, model_validator

from redwheel.core.validators import UNSAFE_TEXT_MESSAGE, contains_unsafe_text


def _refuse_unsafe_text(value: Any) -> Any:
    if contains_unsafe_text(value):
        # pydantic turns the ValueError into a field error; the API answers 400 invalid_request.
        raise ValueError(str(UNSAFE_TEXT_MESSAGE))
    return value


# For a lone `str` parameter (path, query or header) outside an InputSchema.
SafeStr = Annotated[str, BeforeValidator(_refuse_unsafe_text)]


class InputSchema(Schema):
    """Every request schema (bodies and query filters): no field, however nested, may hold
    a NUL, another C0 control character or a lone surrogate (`core.validators`)."""

    @field_validator("*", mode="before")
    @classmethod
    def _safe_text(cls, value):
        return _refuse_unsafe_text(value)


class BodyIn(InputSchema):
    """Request bodies must be JSON objects (ninja's Schema would read attributes off anything)."""

    @model_validator(mode="wrap")
    @classmethod
    def _object_only(cls, values, handler, info):
        if not isinstance(values, dict | cls):
            raise ValueError("The request body must be a JSON object.")
        return handler(values)


class Error(Schema):
    """The one error shape of every API error (docs/api.md lists the codes)."""

    code: str = Field(examples=["not_found"], description="Stable, for programs.")
    message: str = Field(examples=["Not found."], description="Translated, for people.")
    details: dict = Field(examples=[{}], description="Depends on the code; often empty.")


# The statuses an operation can answer with the error shape, by what the operation does.
AUTH_ERRORS = (400, 401, 403)  # 400: bad parameters; 403: CSRF (sessions) or token scope
THROTTLED = (429,)


def error_responses(*statuses: int) -> dict[int, type[Error]]:
    """`{status: Error}` for `response=` so that the schema documents each error answer."""
    return dict.fromkeys(sorted({*AUTH_ERRORS, *statuses}), Error)


def api_enum(name: str, choices: type[enum.Enum]) -> type[enum.StrEnum]:
    """The same values as `choices` under a name of their own.

    The OpenAPI component of an enum is named after its class, so `OrgUnit.Kind` and
    `Platform.Kind` (or two apps' `Category`) would share one component and one of them
    would be described with the other's values."""
    return enum.StrEnum(name, {member.name: member.value for member in choices})
