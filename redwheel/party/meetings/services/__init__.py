"""Writes for organisation life. Split by topic (`types`, `meetings`, `attendance`, `themes`,
`files`, and `common` for what they share); import from this package."""

from redwheel.party.meetings.services.attendance import (
    attendance_mark,
    attendance_sign_in,
    leave_decide,
    leave_request,
    leave_withdraw,
)
from redwheel.party.meetings.services.common import (
    MAX_SESSIONS,
    SessionSpec,
    branch_members,
    city_of,
    is_member,
)
from redwheel.party.meetings.services.files import MAX_FILE_BYTES, StorageFailed, check_upload
from redwheel.party.meetings.services.meetings import (
    ATTENDED_RULE,
    meeting_cancel,
    meeting_create,
    meeting_file_add,
    meeting_hold,
    meeting_record,
    meeting_update,
    quorum_needed,
)
from redwheel.party.meetings.services.themes import (
    themed_day_adopt,
    themed_day_publish,
    themed_day_update,
)
from redwheel.party.meetings.services.types import (
    BRANCH_ASSEMBLY,
    DEFAULT_TYPES,
    EVALUATION,
    THEMED_DAY,
    ensure_types,
    meeting_type_update,
    meeting_types_seed,
)

__all__ = [
    "ATTENDED_RULE",
    "BRANCH_ASSEMBLY",
    "DEFAULT_TYPES",
    "EVALUATION",
    "MAX_FILE_BYTES",
    "MAX_SESSIONS",
    "THEMED_DAY",
    "SessionSpec",
    "StorageFailed",
    "attendance_mark",
    "attendance_sign_in",
    "branch_members",
    "check_upload",
    "city_of",
    "ensure_types",
    "is_member",
    "leave_decide",
    "leave_request",
    "leave_withdraw",
    "meeting_cancel",
    "meeting_create",
    "meeting_file_add",
    "meeting_hold",
    "meeting_record",
    "meeting_type_update",
    "meeting_types_seed",
    "meeting_update",
    "quorum_needed",
    "themed_day_adopt",
    "themed_day_publish",
    "themed_day_update",
]
