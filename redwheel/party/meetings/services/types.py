"""Meeting types as data (domain-rules §3): the defaults every city starts with, and the
committee's edits of them."""

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import require
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings.models import Frequency, MeetingType, Quorum

# Stable codes used by compliance, the themed day and the API.
BRANCH_ASSEMBLY = "branch_assembly"
THEMED_DAY = "themed_day"
EVALUATION = "evaluation"

# code, name (data published by the committee, shown as written), frequency, quorum, note
DEFAULT_TYPES = [
    (BRANCH_ASSEMBLY, "支部党员大会", Frequency.QUARTERLY, Quorum.MAJORITY,
     "每季度一次；到会党员过半数"),
    ("branch_committee", "支委会", Frequency.MONTHLY, Quorum.NONE, "每月一次"),
    ("group_meeting", "党小组会", Frequency.MONTHLY, Quorum.NONE, "每月一次"),
    ("party_lecture", "党课", Frequency.HALF_YEARLY, Quorum.NONE, "每半年至少一次；书记每年讲一次"),
    (THEMED_DAY, "主题党日", Frequency.MONTHLY, Quorum.NONE, "每月固定一天"),
    ("life_meeting", "组织生活会", Frequency.YEARLY, Quorum.NONE, "每年至少一次，一般在第四季度"),
    (EVALUATION, "民主评议党员", Frequency.YEARLY, Quorum.NONE, "每年一次，无记名投票"),
    ("heart_talk", "谈心谈话", Frequency.YEARLY, Quorum.NONE, "支委与每名党员每年至少一次"),
]  # fmt: skip


def ensure_types(city: OrgUnit) -> list[MeetingType]:
    """The city's meeting types, creating the defaults when it has none (inside a write
    whose permission the caller checked)."""
    existing = list(MeetingType.objects.filter(city=city))
    if existing:
        return existing
    MeetingType.objects.bulk_create(
        [
            MeetingType(
                city=city,
                code=code,
                name=name,
                frequency=frequency,
                quorum=quorum,
                note=note,
                position=(n + 1) * 10,
            )
            for n, (code, name, frequency, quorum, note) in enumerate(DEFAULT_TYPES)
        ],
        ignore_conflicts=True,
    )
    return list(MeetingType.objects.filter(city=city))


def meeting_types_seed(*, actor, city: OrgUnit) -> list[MeetingType]:
    """Create the default meeting types of a city (the city committee; idempotent)."""
    require(actor, "change", city)
    if city.parent_id is not None:
        raise NotFound()
    with transaction.atomic():
        before = MeetingType.objects.filter(city=city).count()
        types = ensure_types(city)
        if not before:
            audit.record(
                actor=actor,
                action="meeting_type.seed",
                obj=city,
                summary=f"{city.name}: {len(types)}",
            )
    return types


def meeting_type_update(
    *,
    actor,
    meeting_type: MeetingType,
    name: str,
    frequency: str,
    is_active: bool,
    note: str = "",
) -> MeetingType:
    """The committee edits a type's name, frequency and whether it is an obligation. The
    quorum rule is the party's rule, not an editable default."""
    require(actor, "change", meeting_type)
    if frequency not in Frequency.values:
        raise ValidationFailed(_("Unknown frequency."), code="bad_frequency")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed(_("A name of 1 to 60 characters is required."), code="bad_name")
    with transaction.atomic():
        row = MeetingType.objects.select_for_update().get(pk=meeting_type.pk)
        before = {"frequency": row.frequency, "is_active": row.is_active, "name": row.name}
        row.name, row.frequency, row.is_active = name, frequency, bool(is_active)
        row.note = (note or "")[:200]
        row.save()
        audit.record(
            actor=actor,
            action="meeting_type.update",
            obj=row,
            summary=f"{row.code}: {row.frequency}",
            data={"before": before},
        )
    return row
