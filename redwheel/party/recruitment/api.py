"""A member's pipeline state over JSON, for platform apps to show reminders (token scope
`party:read`, the platform's own drivers only) and for staff (their session, their scope).
Anything out of scope, or a driver without a case, answers 404."""

from datetime import date

from ninja import Router, Schema

from redwheel.accounts.api_auth import PlatformTokenAuth
from redwheel.core.api_auth import session_auth
from redwheel.core.api_schemas import error_responses
from redwheel.core.errors import NotFound
from redwheel.core.permissions import SystemActor, scope
from redwheel.party.recruitment import selectors
from redwheel.party.recruitment.models import Case
from redwheel.party.recruitment.services.common import steps_of

router = Router(tags=["party-recruitment"])


class StepOut(Schema):
    number: int
    stage: int
    name: str
    responsible: str


class DoneOut(Schema):
    number: int
    name: str
    done_on: date


class PipelineStateOut(Schema):
    driver_id: int
    case_id: int
    state: str
    branch: str
    pipeline_version: int
    current_step: StepOut | None
    due_on: date | None
    overdue: bool
    not_before: date | None
    next_steps: list[StepOut]
    done: list[DoneOut]
    applied_on: date
    joined_party_on: date | None
    probation_ends_on: date | None


def _principal(request):
    auth = request.auth
    if getattr(auth, "platform_id", None) is not None and hasattr(auth, "key_hash"):
        return SystemActor.for_platform(auth.platform_id, f"platform:{auth.platform.company_id}")
    return auth


def _step(step) -> dict | None:
    if step is None:
        return None
    return {
        "number": step.number,
        "stage": step.stage,
        "name": step.name,
        "responsible": step.responsible,
    }


@router.get(
    "/party/recruitment/members/{driver_id}",
    auth=[session_auth, PlatformTokenAuth("party:read")],
    response={200: PipelineStateOut, **error_responses(404)},
    summary="A member's recruitment pipeline state (token scope party:read, or staff)",
    tags=["platform"],
)
def member_state(request, driver_id: int):
    case = (
        scope(_principal(request), "view", Case.objects.filter(driver_id=driver_id))
        .select_related("branch", "version")
        .order_by("-created_at", "-id")
        .first()
    )
    if case is None:
        raise NotFound()
    steps = steps_of(case.version)
    completions = {c.step: c.done_on for c in case.completions.order_by("id")}
    return {
        "driver_id": case.driver_id,
        "case_id": case.pk,
        "state": case.state,
        "branch": case.branch.name,
        "pipeline_version": case.version.number,
        "current_step": _step(steps.get(case.current_step)) if case.is_open else None,
        "due_on": case.due_on,
        "overdue": selectors.is_overdue(case),
        "not_before": case.not_before,
        "next_steps": [_step(s) for s in selectors.next_steps(case)[1:]] if case.is_open else [],
        "done": [
            {"number": n, "name": steps[n].name, "done_on": on}
            for n, on in sorted(completions.items())
            if n in steps
        ],
        "applied_on": case.applied_on,
        "joined_party_on": case.joined_party_on,
        "probation_ends_on": case.probation_ends_on,
    }
