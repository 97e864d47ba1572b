"""Recruitment (发展党员): its models in the one permission mechanism (redwheel.core.permissions).

A case is owned by its branch (grants on the branch or above see it), by the platforms its
person drives for (their tokens read it with `party:read`), and by the person (view only: the
steps are the organisation's). Pipeline versions belong to their city; only committee staff
(a `staff` grant on the city's root) edit them (`services.common.require_committee`).
Digest bookkeeping is internal.
"""

from redwheel.core import permissions
from redwheel.party.recruitment.models import (
    Case,
    CaseActivity,
    CasePerson,
    DigestSent,
    Material,
    PipelineStep,
    PipelineVersion,
    PipelineVersionActivity,
    StepCompletion,
)


def register() -> None:
    permissions.register(PipelineVersion, units=("city__path",), platform_actions=())
    permissions.register(PipelineStep, via="version")
    permissions.register(PipelineVersionActivity, via="version")
    permissions.register(
        Case,
        units=("branch__path",),
        platforms=("driver__affiliations__platform_id",),
        owners=("driver__user_id",),
        self_actions=("view",),
        platform_actions=("view",),
    )
    for model in (CaseActivity, StepCompletion, Material, CasePerson):
        permissions.register(model, via="case")
    permissions.register(DigestSent, internal=True)
