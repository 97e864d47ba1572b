"""Roster import writes: upload a file, check it into a preview, commit it all-or-nothing.

The file is streamed twice: once to check (problems are stored as ImportRowError rows; nothing
is written to drivers) and once to commit, re-checking every row as it goes, inside one
transaction. Rows are processed in chunks of `CHUNK` with bulk inserts and updates; only the
blind indexes seen so far are kept for the whole file, so memory stays bounded.

Upserts are keyed by the licence blind index: an identical row is "unchanged", a row that
changes the name, phone, branch, platform, plate or membership is "updated", a new ID number is
"created". New drivers are built exactly as `services.driver_create` builds them (the same
cleaning, gender and region from the ID number, an account without a password).
"""

import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.accounts.models import User
from redwheel.core import uploads
from redwheel.core.errors import DomainError, NotFound, ValidationFailed
from redwheel.core.permissions import can
from redwheel.drivers import services as driver_services
from redwheel.drivers.imports.checks import CheckedRow, RowChecker
from redwheel.drivers.imports.parsing import COLUMNS, MalformedFile, RosterReader
from redwheel.drivers.imports.states import JOB, J
from redwheel.drivers.models import (
    Affiliation,
    Driver,
    ImportJob,
    ImportRowError,
    Membership,
    MembershipActivity,
    Vehicle,
)

logger = logging.getLogger(__name__)

CHUNK = 1000
Status = ImportJob.Status
State = Membership.State
Action = MembershipActivity.Action
Progress = Callable[[int], None] | None


class RowRejected(ValidationFailed):
    """A row failed its re-check during commit: the whole import is rolled back."""

    code = "row_rejected"


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def progress_write(job_id: int, percent: int | None) -> None:
    """Publish (or, with None, clear) a commit's progress. Progress is advisory: a lost cache
    server must not fail an import, so its errors are logged and the import goes on."""
    try:
        if percent is None:
            cache.delete(progress_key(job_id))
        else:
            cache.set(progress_key(job_id), percent, 3600)
    except Exception:
        logger.warning("import %s: progress not published (cache unavailable)", job_id)


def progress_read(job_id: int, default: int) -> int:
    try:
        return cache.get(progress_key(job_id), default)
    except Exception:
        return default


# Upload --------------------------------------------------------------------------------------


def import_upload(*, actor, kind: str, unit, uploaded_file, enqueue: bool = True) -> ImportJob:
    """Store the file, check its format and headers at once, and queue the full check
    (`enqueue=False`: the caller runs `import_validate` itself, as the CLI does)."""
    from redwheel.drivers.imports.tasks import validate_import

    if not can(actor, "import", unit):
        raise NotFound()
    if kind not in COLUMNS:
        raise ValidationFailed(_("Unknown roster kind."))
    limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise ValidationFailed(
            _("The file is larger than %(mb)s MB.") % {"mb": settings.IMPORT_MAX_UPLOAD_MB},
            code="too_large",
        )
    original = Path(uploaded_file.name or "roster").name[:200]
    # A full or read-only media volume is a clear StorageFailed, with no partial file left.
    stored = uploads.save(
        default_storage,
        f"imports/{timezone.now():%Y/%m}/{uuid4().hex}{Path(original).suffix.lower()}",
        uploaded_file,
    )
    try:
        with RosterReader(default_storage.path(stored), kind, name=original):
            pass  # opening reads the header row: a wrong format or missing column fails here
        job = ImportJob(
            kind=kind, file=stored, original_name=original, uploaded_by=actor, unit=unit
        )
        JOB.apply(job, J.UPLOAD, actor=actor)
    except BaseException:
        default_storage.delete(stored)
        raise
    if enqueue:
        validate_import.enqueue(job.pk)
    return job


# Checking ------------------------------------------------------------------------------------


def _chunks(reader: RosterReader) -> Iterator[list[tuple[int, dict]]]:
    chunk = []
    for item in reader:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _percent(done: int, estimated: int | None) -> int:
    return min(99, done * 100 // estimated) if estimated else 0


def import_validate(*, job_id: int, progress: Progress = None) -> ImportJob:
    """Check every row and store the problems; the job ends `previewed` (or `failed`)."""
    job = ImportJob.objects.select_related("unit", "uploaded_by").get(pk=job_id)
    if J.VALIDATE not in JOB.allowed_actions(job):
        return job
    JOB.apply(job, J.VALIDATE, actor=None, changes={"progress": 0, "message": ""})
    job.row_errors.all().delete()
    total = valid = problems = 0
    try:
        checker = RowChecker(job, job.uploaded_by)
        with RosterReader(job.file.path, job.kind, name=job.original_name) as reader:
            headers = reader.headers
            for chunk in _chunks(reader):
                rows = checker.check(chunk)
                errors = [
                    ImportRowError(
                        job=job, row=row.number, column=headers.get(key, ""), message=message[:300]
                    )
                    for row in rows
                    for key, message in row.errors
                ]
                ImportRowError.objects.bulk_create(errors)
                total += len(rows)
                valid += sum(1 for row in rows if not row.errors)
                problems += len(errors)
                ImportJob.objects.filter(pk=job.pk).update(
                    total_rows=total,
                    valid_rows=valid,
                    error_count=problems,
                    progress=_percent(total, reader.estimated_rows),
                )
                if progress:
                    progress(len(rows))
    except MalformedFile as exc:
        _fail(job, str(exc.message))
    except Exception as exc:
        logger.exception("checking import %s failed", job.pk)
        _fail(job, _("The file could not be checked: %(error)s") % {"error": type(exc).__name__})
    else:
        if total == 0:
            problems = 1
            ImportRowError.objects.create(
                job=job, row=2, column="", message=_("The file has no data rows.")
            )
        JOB.apply(
            job,
            J.PREVIEW,
            actor=None,
            note=_("%(rows)s rows, %(problems)s problems") % {"rows": total, "problems": problems},
            changes={
                "progress": 100,
                "total_rows": total,
                "valid_rows": valid,
                "error_count": problems,
                "validated_at": timezone.now(),
            },
        )
        if problems:  # can never be imported; the corrected file is a new upload
            _drop_file(job)
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, message: str, actor=None) -> None:
    JOB.apply(job, J.FAIL, actor=actor, note=message, changes={"message": message[:500]})
    _drop_file(job)


def _drop_file(job: ImportJob) -> None:
    """The roster holds plaintext ID numbers: keep it only while it may still be imported."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


# Commit --------------------------------------------------------------------------------------


def import_commit_request(*, actor, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Queue the commit; refused unless the check found no problem at all."""
    from redwheel.drivers.imports.tasks import commit_import

    if not can(actor, "import", job.unit):
        raise NotFound()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        JOB.apply(job, J.REQUEST_COMMIT, actor=actor, changes={"progress": 0})
    # The committer's scope is used for the re-check, so the task gets their id too.
    if enqueue:
        commit_import.enqueue(job.pk, actor.pk)
    return job


def import_commit(
    *, job_id: int, actor_id: int | None = None, progress: Progress = None
) -> ImportJob:
    """Write the whole file in one transaction; on any problem nothing persists."""
    job = ImportJob.objects.select_related("unit", "uploaded_by").get(pk=job_id)
    if job.status != Status.COMMITTING:
        return job
    actor = User.objects.get(pk=actor_id) if actor_id else job.uploaded_by
    try:
        with transaction.atomic():
            counts = _commit_rows(job, actor, progress)
            summary = (
                _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % counts
            )
            JOB.apply(
                job,
                J.COMMIT,
                actor=actor,
                note=summary,
                changes={
                    "progress": 100,
                    "committed_at": timezone.now(),
                    "message": "",
                    "created_count": counts["created"],
                    "updated_count": counts["updated"],
                    "unchanged_count": counts["unchanged"],
                },
                audit=bool(counts["created"] or counts["updated"]),
                audit_action=f"import.{job.kind}",
                audit_summary=summary,
                audit_data={**counts, "kind": job.kind, "file": job.original_name},
            )
    except DomainError as exc:
        _fail(job, str(exc.message), actor)
    except Exception as exc:
        logger.exception("committing import %s failed", job.pk)
        _fail(
            job,
            _("The import failed and nothing was written: %(error)s")
            % {"error": f"{type(exc).__name__}: {exc}"[:300]},
            actor,
        )
    else:
        _drop_file(job)
    finally:
        progress_write(job.pk, None)
    job.refresh_from_db()
    return job


def _commit_rows(job: ImportJob, actor, progress: Progress) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    checker = RowChecker(job, actor)
    apply = _apply_drivers if job.kind == ImportJob.Kind.DRIVERS else _apply_members
    done = 0
    with RosterReader(job.file.path, job.kind, name=job.original_name) as reader:
        headers = reader.headers
        for chunk in _chunks(reader):
            rows = checker.check(chunk)
            for row in rows:
                if row.errors:
                    key, message = row.errors[0]
                    raise RowRejected(
                        _("Row %(row)s, %(column)s: %(message)s")
                        % {"row": row.number, "column": headers.get(key, key), "message": message}
                    )
            for key, value in apply(rows, actor=actor, job=job).items():
                counts[key] += value
            done += len(rows)
            percent = min(99, done * 100 // max(job.total_rows, 1))
            # Other connections cannot see rows written inside this transaction; the cache
            # carries progress to the page (shared between processes when Redis is set up).
            progress_write(job.pk, percent)
            ImportJob.objects.filter(pk=job.pk).update(progress=percent)
            if progress:
                progress(len(rows))
    return counts


def _new_driver(data: dict) -> Driver:
    """The same construction as `services.driver_create`, without saving."""
    license_no = data["license_no"]
    driver = Driver(
        name=data["name"],
        gender=driver_services._gender_from_id(license_no),
        region_code=license_no[:6],
        branch_id=data.get("branch_id"),
    )
    driver.set_license(license_no)
    driver.set_phone(data["phone"])
    return driver


def _attach_accounts(new: list[Driver]) -> None:
    """Drivers get an account without a password (as `driver_create` does), reusing a
    driver-less account with the same phone."""
    if not new:
        return
    existing = dict(
        User.objects.filter(
            phone_index__in=[d.phone_index for d in new], driver__isnull=True
        ).values_list("phone_index", "id")
    )
    users = []
    for driver in new:
        if driver.phone_index in existing:
            driver.user_id = existing[driver.phone_index]
        else:
            user = User(display_name=driver.name)
            user.set_phone(driver.phone)
            # What set_unusable_password() stores, without its slow per-character randomness.
            user.password = f"{UNUSABLE_PASSWORD_PREFIX}{secrets.token_urlsafe(30)}"
            users.append(user)
            driver.user = user
    User.objects.bulk_create(users, batch_size=CHUNK)
    for driver in new:
        if driver.user_id is None and driver.user is not None:
            driver.user_id = driver.user.pk


def _apply_drivers(rows: list[CheckedRow], *, actor, job: ImportJob) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = (
        Driver.objects.filter(id__in=[r.data["driver_id"] for r in rows if "driver_id" in r.data])
        .defer("license_no", "phone")
        .in_bulk()
    )
    affiliations = {
        (a.driver_id, a.platform_id): a
        for a in Affiliation.objects.filter(driver_id__in=list(existing))
    }
    owned_plates = set(
        Vehicle.objects.filter(driver_id__in=list(existing)).values_list("plate", flat=True)
    )
    new_drivers, changed, new_affiliations, changed_affiliations, new_vehicles = [], [], [], [], []
    for row in rows:
        data = row.data
        driver = existing.get(data.get("driver_id"))
        if driver is None:
            driver = _new_driver(data)
            new_drivers.append(driver)
            new_affiliations.append(
                Affiliation(
                    driver=driver,
                    platform_id=data["platform_id"],
                    certificate_no=data["certificate_no"],
                )
            )
            if "plate" in data:
                new_vehicles.append(_vehicle(driver, data))
            counts["created"] += 1
            continue
        dirty = False
        if data["name"] != driver.name:
            driver.name = data["name"]
            dirty = True
        if data["phone_index"] != driver.phone_index:
            driver.set_phone(data["phone"])
            dirty = True
        if data["branch_id"] is not None and data["branch_id"] != driver.branch_id:
            driver.branch_id = data["branch_id"]
            dirty = True
        if dirty:
            changed.append(driver)
        affiliation = affiliations.get((driver.pk, data["platform_id"]))
        if affiliation is None:
            new_affiliations.append(
                Affiliation(
                    driver=driver,
                    platform_id=data["platform_id"],
                    certificate_no=data["certificate_no"],
                )
            )
            dirty = True
        elif not affiliation.is_active or (
            data["certificate_no"] and data["certificate_no"] != affiliation.certificate_no
        ):
            affiliation.is_active = True
            affiliation.certificate_no = data["certificate_no"] or affiliation.certificate_no
            changed_affiliations.append(affiliation)
            dirty = True
        if "plate" in data and data["plate"] not in owned_plates:
            new_vehicles.append(_vehicle(driver, data))
            dirty = True
        counts["updated" if dirty else "unchanged"] += 1
    _attach_accounts(new_drivers)
    Driver.objects.bulk_create(new_drivers, batch_size=CHUNK)
    now = timezone.now()
    for driver in changed:
        driver.updated_at = now
    Driver.objects.bulk_update(
        changed,
        ["name", "phone", "phone_index", "phone_masked", "branch", "updated_at"],
        batch_size=CHUNK,
    )
    for affiliation in new_affiliations:
        affiliation.driver_id = affiliation.driver.pk
    Affiliation.objects.bulk_create(new_affiliations, batch_size=CHUNK)
    for affiliation in changed_affiliations:
        affiliation.updated_at = now
    Affiliation.objects.bulk_update(
        changed_affiliations, ["is_active", "certificate_no", "updated_at"]
    )
    for vehicle in new_vehicles:
        vehicle.driver_id = vehicle.driver.pk
    Vehicle.objects.bulk_create(new_vehicles, batch_size=CHUNK)
    return counts


def _vehicle(driver: Driver, data: dict) -> Vehicle:
    energy = Vehicle.Energy.NEW_ENERGY if data["new_energy"] else Vehicle.Energy.FUEL
    return Vehicle(driver=driver, plate=data["plate"], energy=energy)


def _apply_members(rows: list[CheckedRow], *, actor, job: ImportJob) -> dict:
    """Declare + verify in one step: a roster from the responsible organisation is the
    verification. Transfers and mobile check-ins get their activity rows too."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    drivers = (
        Driver.objects.filter(id__in=[r.data["driver_id"] for r in rows])
        .defer("license_no", "phone")
        .select_related("membership")
        .in_bulk()
    )
    now = timezone.now()
    note = _("Roster import #%(id)s") % {"id": job.pk}
    new_memberships, changed_memberships, changed_drivers, activities = [], [], [], []

    def activity(membership, action, from_state, branch_id=None):
        activities.append(
            MembershipActivity(
                membership=membership,
                actor=actor,
                action=action,
                from_state=from_state or "",
                to_state=membership.state,
                category=membership.category,
                branch_id=branch_id or membership.branch_id,
                note=note,
            )
        )

    for row in rows:
        data = row.data
        driver = drivers[data["driver_id"]]
        membership = driver.membership if _has_membership(driver) else None
        is_new = membership is None
        driver_dirty = member_dirty = False
        if data["phone_index"] != driver.phone_index:
            driver.set_phone(data["phone"])
            driver_dirty = True
        if membership is None or membership.state in (State.REJECTED, State.LAPSED):
            previous = membership.state if membership else None
            if membership is None:
                membership = Membership(driver=driver)
                new_memberships.append(membership)
            membership.category = data["category"]
            membership.branch_id = data["branch_id"]
            membership.joined_party_on = data["joined_on"] or membership.joined_party_on
            membership.home_organisation = data["home_organisation"] or membership.home_organisation
            membership.rejection_reason = ""
            membership.state = State.DECLARED
            membership.state_changed_at = now
            activity(membership, Action.DECLARE, previous)
            membership.state = State.VERIFIED
            activity(membership, Action.VERIFY, State.DECLARED)
            member_dirty = True
        else:
            if membership.state == State.DECLARED:
                membership.branch_id = data["branch_id"]
                membership.category = data["category"]
                membership.state = State.VERIFIED
                membership.state_changed_at = now
                activity(membership, Action.VERIFY, State.DECLARED)
                member_dirty = True
            elif membership.branch_id != data["branch_id"]:
                membership.branch_id = data["branch_id"]
                activity(membership, Action.TRANSFER, membership.state)
                driver.branch_id = data["branch_id"]
                driver_dirty = member_dirty = True
            if membership.category != data["category"]:
                membership.category = data["category"]
                member_dirty = True
            if data["joined_on"] and data["joined_on"] != membership.joined_party_on:
                membership.joined_party_on = data["joined_on"]
                member_dirty = True
            if (
                data["home_organisation"]
                and data["home_organisation"] != membership.home_organisation
            ):
                membership.home_organisation = data["home_organisation"]
                member_dirty = True
        mobile_branch_id = data["mobile_branch_id"]
        if mobile_branch_id and mobile_branch_id != membership.mobile_branch_id:
            membership.mobile_branch_id = mobile_branch_id
            membership.checked_in_at = now
            activity(membership, Action.CHECK_IN, membership.state, branch_id=mobile_branch_id)
            member_dirty = True
        if driver.branch_id is None:
            driver.branch_id = membership.branch_id
            driver_dirty = True
        if driver_dirty:
            changed_drivers.append(driver)
        if member_dirty and not is_new:
            changed_memberships.append(membership)
        if is_new:
            counts["created"] += 1
        else:
            counts["updated" if member_dirty or driver_dirty else "unchanged"] += 1
    Membership.objects.bulk_create(new_memberships, batch_size=CHUNK)
    for membership in changed_memberships:
        membership.updated_at = now
    Membership.objects.bulk_update(
        changed_memberships,
        [
            "category",
            "state",
            "branch",
            "mobile_branch",
            "checked_in_at",
            "home_organisation",
            "joined_party_on",
            "state_changed_at",
            "rejection_reason",
            "updated_at",
        ],
        batch_size=CHUNK,
    )
    for driver in changed_drivers:
        driver.updated_at = now
    Driver.objects.bulk_update(
        changed_drivers,
        ["phone", "phone_index", "phone_masked", "branch", "updated_at"],
        batch_size=CHUNK,
    )
    for item in activities:
        item.membership_id = item.membership.pk
    MembershipActivity.objects.bulk_create(activities, batch_size=CHUNK)
    return counts


def _has_membership(driver: Driver) -> bool:
    try:
        driver.membership  # noqa: B018
    except Membership.DoesNotExist:
        return False
    return True
