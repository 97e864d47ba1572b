"""Org units and platforms for signed-in staff. Everything goes through `permissions.scope`."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from redwheel.core.api_auth import session_auth
from redwheel.core.api_schemas import InputSchema, api_enum, error_responses
from redwheel.core.paging import ApiPagination
from redwheel.core.permissions import scope
from redwheel.orgs.models import OrgUnit, Platform

router = Router(tags=["org units"], auth=session_auth)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
UnitKind = api_enum("UnitKind", OrgUnit.Kind)
PlatformKind = api_enum("PlatformKind", Platform.Kind)
LIST_ERRORS = error_responses()
DETAIL_ERRORS = error_responses(404)


class ChildUnitRef(Schema):
    id: int
    name: str
    kind: UnitKind


class UnitOut(Schema):
    id: int = Field(examples=[3])
    name: str = Field(examples=["甲出行第一支部"])
    kind: UnitKind = Field(examples=["branch"])
    kind_label: str = Field(examples=["Party branch"])
    branch_type: str = Field(examples=["regular"], description="Only set on branches.")
    parent_id: int | None = Field(examples=[2])
    path: str = Field(examples=["0001.0002.0003."], description="Materialised tree path.")
    depth: int = Field(examples=[2])
    region_code: str = Field(examples=["510107"], description="GB/T 2260 region code.")
    platform_id: int | None = Field(examples=[1])
    is_active: bool


class UnitDetailOut(UnitOut):
    children: list[ChildUnitRef] = Field(description="Child units visible to the caller.")

    @staticmethod
    def resolve_children(obj: OrgUnit, context) -> list[OrgUnit]:
        return list(_units(context["request"]).filter(parent=obj).order_by("path"))


class UnitFilter(InputSchema):
    kind: UnitKind | None = Field(None, description="Only units of this kind.")


class PlatformOut(Schema):
    id: int = Field(examples=[1])
    company_id: str = Field(examples=["PA001"], description="CompanyId in the exchange format.")
    name: str = Field(examples=["甲出行"])
    kind: PlatformKind = Field(examples=["platform"])
    commission_cap_percent: Decimal | None = Field(examples=["25.00"])
    partner_ids: list[int] = Field(examples=[[2, 5]], description="Aggregators: partner ids.")

    @staticmethod
    def resolve_partner_ids(obj: Platform) -> list[int]:
        return [partner.pk for partner in obj.partners.all()]


def _units(request):
    return scope(request.auth, "view", OrgUnit.objects.all())


@router.get(
    "/units", response={200: list[UnitOut], **LIST_ERRORS}, summary="List org units in scope"
)
@paginate(ApiPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def unit_list(request, filters: Query[UnitFilter]):
    units = _units(request)
    if filters.kind:
        units = units.filter(kind=filters.kind)
    return units.order_by("path")


@router.get(
    "/units/{int:id}", response={200: UnitDetailOut, **DETAIL_ERRORS}, summary="One org unit"
)
def unit_detail(request, id: int):
    return get_object_or_404(_units(request), pk=id)


@router.get(
    "/platforms",
    response={200: list[PlatformOut], **LIST_ERRORS},
    summary="List platforms in scope",
    tags=["platforms"],
)
@paginate(ApiPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def platform_list(request):
    platforms = scope(request.auth, "view", Platform.objects.all())
    return platforms.prefetch_related("partners").order_by("name", "id")
