"""Attachments of appeal cases: accepted types (checked by their first bytes), limits,
storing before the transaction and removing again when it fails.
"""

import logging
import uuid
from datetime import datetime

from django.utils.translation import gettext as _

from redwheel.appeals.models import Activity, Attachment, Case
from redwheel.core import uploads
from redwheel.core.errors import DomainError, ValidationFailed
from redwheel.core.uploads import save as save_upload

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 6
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Accepted upload kinds, recognised by their first bytes (core.uploads), never by the name.
ACCEPTED = ("jpg", "png", "pdf")


class StorageFailed(DomainError):
    code = "storage_failed"
    status = 503


def _attach(case: Case, activity: Activity, saved: list) -> None:
    """Rows for files already written to storage: (storage name, upload, content type)."""
    Attachment.objects.bulk_create(
        [
            Attachment(
                case=case,
                activity=activity,
                file=name,
                original_name=up.name[:200],
                content_type=content_type,
                size=up.size,
            )
            for name, up, content_type in saved
        ]
    )


def check_upload(upload) -> tuple[str, str]:
    """(content type, extension) of an accepted upload, or ValidationFailed."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
            code="attachment_too_large",
        )
    found = uploads.sniff(upload, ACCEPTED)
    if found:
        return found
    raise ValidationFailed(
        _("%(name)s is not a JPEG, PNG or PDF file.") % {"name": upload.name},
        code="attachment_type",
    )


def _store_files(uploads, now: datetime) -> list[tuple]:
    """Save the uploads to storage first; on any failure remove what was saved and stop."""
    storage = Attachment._meta.get_field("file").storage
    saved = []
    checked = [(upload, *check_upload(upload)) for upload in uploads]
    try:
        for upload, content_type, extension in checked:
            name = f"appeals/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"
            # save_upload removes a partial file when the volume is full or read-only.
            saved.append((save_upload(storage, name, upload), upload, content_type))
    except Exception as exc:
        _remove_files([name for name, *_rest in saved])
        logger.exception("appeal attachment storage failed")
        raise StorageFailed(
            _("The attachments could not be stored. Nothing was filed; please try again.")
        ) from exc
    return saved


def _remove_files(names) -> None:
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # best effort: an orphan file is harmless, a lost case is not
            logger.warning("could not remove orphaned attachment %s", name)
