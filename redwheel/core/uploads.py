"""What kind of file an upload really is, from its first bytes (not from its name or the
browser's content type). Each capability decides which kinds it accepts and how it says no."""

import os

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
