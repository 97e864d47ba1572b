"""Writes for recruitment (发展党员): pipeline versions (`pipeline`), cases (`cases`), uploaded
materials (`materials`) and the weekly digest job (`digest`); import from this package."""

from redwheel.party.recruitment.services.cases import (
    MIN_AGE,
    OUTCOME_CANCEL,
    OUTCOME_CONFIRM,
    OUTCOME_EXTEND,
    OUTCOMES,
    birth_date,
    case_apply,
    case_cancel,
    case_people_set,
    case_restart,
    case_step_complete,
    material_upload,
)
from redwheel.party.recruitment.services.common import (
    CASE,
    CATEGORY_AT_STEP,
    VERSION,
    is_committee_staff,
    version_in_force,
)
from redwheel.party.recruitment.services.digest import iso_week, send_weekly_digests
from redwheel.party.recruitment.services.materials import MAX_MATERIAL_BYTES, StorageFailed
from redwheel.party.recruitment.services.pipeline import (
    pipeline_seed_default,
    version_draft,
    version_publish,
    version_step_update,
)

__all__ = [
    "CASE",
    "CATEGORY_AT_STEP",
    "MAX_MATERIAL_BYTES",
    "MIN_AGE",
    "OUTCOMES",
    "OUTCOME_CANCEL",
    "OUTCOME_CONFIRM",
    "OUTCOME_EXTEND",
    "VERSION",
    "StorageFailed",
    "birth_date",
    "case_apply",
    "case_cancel",
    "case_people_set",
    "case_restart",
    "case_step_complete",
    "is_committee_staff",
    "iso_week",
    "material_upload",
    "pipeline_seed_default",
    "send_weekly_digests",
    "version_draft",
    "version_in_force",
    "version_publish",
    "version_step_update",
]
