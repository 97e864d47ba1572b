"""What kind of file an upload really is, from its first bytes (not from its name or the
browser's content type). Each capability decides which kinds it accepts and how it says no.
`save` stores an upload and never leaves a partial file behind when the volume is full or
read-only."""

import contextlib
import logging
import os

from django.utils.translation import gettext_lazy as _

from redwheel.core.errors import DomainError

logger = logging.getLogger(__name__)

_ZIP = b"PK\x03\x04"
# kind: (first bytes, content type, extensions accepted, extension stored). Office documents
# are zip files, told apart by their name.
KINDS = {
    "pdf": (b"%PDF-", "application/pdf", (".pdf",), ".pdf"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg"), ".jpg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png", (".png",), ".png"),
    "docx": (
        _ZIP,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        ".docx",
    ),
    "pptx": (
        _ZIP,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (".pptx",),
        ".pptx",
    ),
    "xlsx": (
        _ZIP,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
        ".xlsx",
    ),
}


def sniff(upload, kinds) -> tuple[str, str] | None:
    """(content type, extension to store) of the first of `kinds` the upload is, or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    extension = os.path.splitext(upload.name or "")[1].lower()
    for kind in kinds:
        magic, content_type, extensions, stored = KINDS[kind]
        if head.startswith(magic) and (magic != _ZIP or extension in extensions):
            return content_type, stored
    return None


class StorageFailed(DomainError):
    """The media volume refused the file (full, read-only, quota): nothing was stored."""

    code = "storage_failed"
    status = 503
    default_message = _(
        "The file could not be stored: the server's storage is full or not writable. "
        "Nothing was saved; please try again later."
    )


def save(storage, name: str, content) -> str:
    """`storage.save(name, content)`, or StorageFailed with no file left behind.

    Django's FileSystemStorage creates the file, then writes it chunk by chunk; a write that
    fails with ENOSPC or EFBIG leaves the partial file on disk, and a failed move of a large
    (temporary-file) upload leaves a partial copy. Both are removed here. `name` must be unique
    (the callers use uuids), so the file found under it afterwards is this upload's leftover.
    """
    try:
        return storage.save(name, content)
    except OSError as exc:
        with contextlib.suppress(Exception):  # best effort: the volume may refuse this too
            if storage.exists(name):
                storage.delete(name)
        logger.error("storing upload %s failed: %s", name, exc)
        raise StorageFailed() from exc
