"""Attachments of meetings and themed days: accepted types (checked by their first bytes),
limits, storing the files before the rows and removing them again when anything fails, so a
failed upload writes no row and leaves no file."""

import logging
import uuid
from datetime import datetime

from django.utils.translation import gettext as _

from redwheel.core import uploads
from redwheel.core.errors import DomainError, ValidationFailed

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
# Minutes and materials: images, PDFs and Office documents (core.uploads).
ACCEPTED = ("jpg", "png", "pdf", "docx", "pptx", "xlsx")


class StorageFailed(DomainError):
    code = "storage_failed"
    status = 503


def check_upload(upload) -> tuple[str, str]:
    """(content type, extension) of an accepted upload, or ValidationFailed."""
    if upload.size > MAX_FILE_BYTES:
        raise ValidationFailed(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": MAX_FILE_BYTES // (1024 * 1024)},
            code="attachment_too_large",
        )
    if upload.size == 0:
        raise ValidationFailed(_("%(name)s is empty.") % {"name": upload.name}, code="empty_file")
    found = uploads.sniff(upload, ACCEPTED)
    if found:
        return found
    raise ValidationFailed(
        _("%(name)s is not a JPEG, PNG, PDF, Word, PowerPoint or Excel file.")
        % {"name": upload.name},
        code="attachment_type",
    )


def check_all(uploads) -> list[tuple]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise ValidationFailed(
            _("At most %(n)s files at a time.") % {"n": MAX_FILES}, code="too_many_files"
        )
    return [(upload, *check_upload(upload)) for upload in uploads]


def store(model, checked, prefix: str, now: datetime) -> list[tuple]:
    """Write checked uploads to storage: [(storage name, upload, content type)]. On any
    failure remove what was written and raise StorageFailed."""
    storage = model._meta.get_field("file").storage
    saved = []
    try:
        for upload, content_type, extension in checked:
            name = f"{prefix}/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"
            saved.append((storage.save(name, upload), upload, content_type))
    except Exception as exc:
        remove(model, [name for name, *_rest in saved])
        logger.exception("meeting attachment storage failed")
        raise StorageFailed(
            _("The files could not be stored. Nothing was saved; please try again.")
        ) from exc
    return saved


def remove(model, names) -> None:
    storage = model._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # best effort: an orphan file is harmless
            logger.warning("could not remove orphaned file %s", name)
