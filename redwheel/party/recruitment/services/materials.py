"""Uploaded materials: the step's allowed file types (recognised by their first bytes), a size
limit, stored before the transaction and removed again when it fails, so a refused or failed
upload leaves neither a row nor a file."""

import logging
import uuid

from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import uploads
from redwheel.core.errors import DomainError, ValidationFailed
from redwheel.party.recruitment.models import Case, Material

logger = logging.getLogger(__name__)

MAX_MATERIAL_BYTES = 10 * 1024 * 1024
MAX_MATERIALS_PER_CALL = 8


class StorageFailed(DomainError):
    code = "storage_failed"
    status = 503


def spec_of(step, code: str) -> dict:
    spec = next((m for m in step.materials or [] if m.get("code") == code), None)
    if spec is None:
        raise ValidationFailed(
            _("Step %(n)s has no material “%(code)s”.") % {"n": step.number, "code": code},
            code="unknown_material",
        )
    return spec


def check_upload(spec: dict, upload) -> tuple[str, str]:
    """(content type, extension) of an upload the material accepts, or ValidationFailed."""
    if upload.size > MAX_MATERIAL_BYTES:
        raise ValidationFailed(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": MAX_MATERIAL_BYTES // (1024 * 1024)},
            code="material_too_large",
            details={spec["code"]: [_("Too large.")]},
        )
    found = uploads.sniff(upload, spec.get("types", []))
    if found:
        return found
    allowed = ", ".join(t.upper() for t in spec.get("types", []))
    raise ValidationFailed(
        _("%(name)s is not an accepted file (%(label)s: %(types)s).")
        % {"name": upload.name, "label": spec.get("label", spec["code"]), "types": allowed},
        code="material_type",
        details={spec["code"]: [_("Accepted: %(types)s.") % {"types": allowed}]},
    )


def store(step, uploads: dict) -> list[tuple]:
    """Check every upload first, then save them; on a storage failure remove what was saved.
    Returns (code, label, storage name, upload, content type) per file."""
    if len(uploads) > MAX_MATERIALS_PER_CALL:
        raise ValidationFailed(_("Too many files at once."), code="too_many_files")
    checked = []
    for code, upload in uploads.items():
        spec = spec_of(step, code)
        checked.append((spec, upload, *check_upload(spec, upload)))
    storage = Material._meta.get_field("file").storage
    saved = []
    now = timezone.now()
    try:
        for spec, upload, content_type, extension in checked:
            name = f"recruitment/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"
            saved.append(
                (
                    spec["code"],
                    spec.get("label", ""),
                    storage.save(name, upload),
                    upload,
                    content_type,
                )
            )
    except Exception as exc:
        remove([s[2] for s in saved])
        logger.exception("recruitment material storage failed")
        raise StorageFailed(_("The files could not be stored. Nothing was saved.")) from exc
    return saved


def rows(case: Case, step: int, saved: list, uploader) -> list[Material]:
    return Material.objects.bulk_create(
        [
            Material(
                case=case,
                step=step,
                code=code,
                label=label[:120],
                file=name,
                original_name=upload.name[:200],
                content_type=content_type,
                size=upload.size,
                uploaded_by=uploader,
            )
            for code, label, name, upload, content_type in saved
        ]
    )


def remove(names) -> None:
    storage = Material._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # best effort: an orphan file is harmless, a half-saved step is not
            logger.warning("could not remove orphaned material %s", name)
