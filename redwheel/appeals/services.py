"""Writes for appeal cases. Every step goes through `TRANSITIONS`, writes one immutable
Activity row and one audit entry, and keeps the stored deadlines of the current level.

Services take `now=` so that the escalation job, the demo and tests can work at a given
instant; pages and the API leave it out.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.accounts.models import Grant
from redwheel.appeals import deadlines, routing
from redwheel.appeals.models import (
    Activity,
    Assignment,
    Attachment,
    Case,
    Category,
    DeadlinePolicy,
    Level,
    Mediation,
    Status,
)
from redwheel.core import audit
from redwheel.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from redwheel.core.notifications import notify_platform, notify_user
from redwheel.core.permissions import (
    SystemActor,
    acting_platform,
    can,
    get_or_404,
    is_unscoped,
    require,
)
from redwheel.orgs.models import OrgUnit, Platform
from redwheel.orgs.permissions import is_city_committee

logger = logging.getLogger(__name__)
Action = Activity.Action

# The case state machine: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    Action.ACCEPT: (frozenset({Status.SUBMITTED}), Status.ACCEPTED),
    Action.REQUEST_INFO: (frozenset({Status.SUBMITTED, Status.ACCEPTED}), Status.WAITING),
    Action.PROVIDE_INFO: (frozenset({Status.WAITING}), Status.ACCEPTED),
    Action.ANSWER: (
        frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.WAITING}),
        Status.ANSWERED,
    ),
    Action.ESCALATE: (
        frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.WAITING}),
        Status.SUBMITTED,
    ),
    Action.AUTO_ESCALATE: (frozenset({Status.SUBMITTED, Status.ACCEPTED}), Status.SUBMITTED),
    Action.RATE: (frozenset({Status.ANSWERED}), Status.CLOSED),
    Action.CLOSE: (frozenset({Status.ANSWERED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.ANSWERED, Status.CLOSED}), Status.SUBMITTED),
    Action.MERGE: (frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.WAITING}), Status.MERGED),
    Action.WITHDRAW: (
        frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.WAITING}),
        Status.WITHDRAWN,
    ),
}
# Statuses whose clock runs (the escalation job looks only at these).
RUNNING = (Status.SUBMITTED, Status.ACCEPTED)
# Who may take each action: the unit handling the case, the driver, or either.
HANDLER_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.REQUEST_INFO,
        Action.ANSWER,
        Action.ESCALATE,
        Action.CLOSE,
        Action.MERGE,
        Action.PROVIDE_INFO,
    }
)
DRIVER_ACTIONS = frozenset({Action.PROVIDE_INFO, Action.RATE, Action.REOPEN, Action.WITHDRAW})

REOPEN_WINDOW = timedelta(days=7)
MAX_ATTACHMENTS = 6
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Accepted upload types, recognised by their first bytes (never by the name or header alone).
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "application/pdf": (b"%PDF-", ".pdf"),
}


class StorageFailed(DomainError):
    code = "storage_failed"
    status = 503


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# Permissions ---------------------------------------------------------------------------------
#
# Who may *see* a case is the registry's business (appeals/permissions.py); every public
# function below starts by asking it, so a caller out of scope gets NotFound before anything
# else happens. Who may take a *step* on a visible case is the rule of this module: the
# handler (the person or unit holding the case now) or the driver it is about.


def _person_id(actor) -> int | None:
    """The user id of a signed-in, active person; None for tokens, feeds and operators."""
    if isinstance(actor, SystemActor) or acting_platform(actor) is not None:
        return None
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    return actor.pk


def _person(actor):
    """The actor as a User row to store (filed by, answered by), or None for machines."""
    return actor if _person_id(actor) is not None else None


def _can_handle(actor, case: Case) -> bool:
    """The named assignee, or `change` on the unit holding the case now (grants cover their
    subtree, so anything above it too); at level 4, the city committee of the case's city.
    Platforms read their cases through their token; handling them is people's work."""
    if is_unscoped(actor):
        return True
    person = _person_id(actor)
    if person is None:
        return False
    if case.assignee_id is not None and case.assignee_id == person:
        return True
    if case.level == Level.COMMITTEE:
        return is_city_committee(actor, "change", city=case.unit)
    return can(actor, "change", case.unit)


def _is_own(actor, case: Case) -> bool:
    """The driver the case is about, acting for themselves (the registry's self-service)."""
    person = _person_id(actor)
    return person is not None and case.driver.user_id == person and can(actor, "change", case)


def _may(actor, case: Case, action: str) -> bool:
    handles = action in HANDLER_ACTIONS or action == Action.MEDIATION
    if handles and _can_handle(actor, case):
        return True
    if action in DRIVER_ACTIONS:
        return is_unscoped(actor) or _is_own(actor, case)
    return False


def may_take(actor, case: Case, action: str) -> bool:
    """Whether the actor has a part in `action` on a case (whatever the case's status now):
    pages ask this before they read any input."""
    return action in Action.values and _may(actor, case, action)


def _guard(actor, case: Case, action: str) -> Case:
    """The first check of every step: NotFound unless the actor sees the case and has a part
    in `action`. Returns the case freshly read (the step re-checks it under its row lock)."""
    fresh = get_or_404(
        actor, "view", Case.objects.select_related("driver", "unit"), pk=getattr(case, "pk", None)
    )
    if not _may(actor, fresh, action):
        raise NotFound()
    return fresh


@dataclass(frozen=True)
class CaseRoles:
    """What the viewer is to a case they can see, and the steps open to them now."""

    handler: bool
    own: bool
    allowed: list[str]


def case_roles(actor, case: Case, *, now: datetime | None = None) -> CaseRoles:
    """NotFound for a case out of the actor's scope."""
    require(actor, "view", case)
    now = _now(now)
    handler, own = _can_handle(actor, case), _is_own(actor, case)
    allowed = []
    for action, (sources, _target) in TRANSITIONS.items():
        if action == Action.AUTO_ESCALATE or case.status not in sources:
            continue
        if (handler and action in HANDLER_ACTIONS) or (own and action in DRIVER_ACTIONS):
            if action == Action.REOPEN and not _reopen_open(case, now):
                continue
            if action == Action.ESCALATE and case.level >= routing.TOP_LEVEL:
                continue
            allowed.append(str(action))
    return CaseRoles(handler=handler, own=own, allowed=allowed)


def allowed_actions(actor, case: Case) -> list[str]:
    """The steps the actor may take on the case now; NotFound for a case out of scope."""
    return case_roles(actor, case).allowed


def _require_action(actor, case: Case, action: str) -> None:
    sources, _target = TRANSITIONS[action]
    if not _may(actor, case, action):
        raise NotFound()
    if case.status not in sources:
        raise InvalidTransition()


def _require_filer(actor, driver, channel: str, platform) -> None:
    """Who may file for `driver` on `channel`: the driver on the phone, staff who may change
    the driver at the intake desk, a platform (its token) for its own driver over the API."""
    if driver is None or getattr(driver, "pk", None) is None:
        raise NotFound()
    if is_unscoped(actor):
        return
    acting_for = acting_platform(actor)
    if channel == Case.Channel.APP:
        allowed = driver.user_id is not None and _person_id(actor) == driver.user_id
    elif channel == Case.Channel.INTAKE:
        allowed = _person_id(actor) is not None
    elif channel == Case.Channel.API:
        allowed = acting_for is not None and (platform is None or platform.pk == acting_for)
    else:
        allowed = False
    if not (allowed and can(actor, "change", driver)):
        raise NotFound()


# Deadlines ------------------------------------------------------------------------------------


def policy_for(level: int, category: str) -> deadlines.Policy:
    rows = {
        row.category: row
        for row in DeadlinePolicy.objects.filter(level=level, category__in=[category, ""])
    }
    row = rows.get(category) or rows.get("")
    if row is None:
        return deadlines.default_policy(level, category)
    return deadlines.Policy(row.response_minutes, row.resolution_minutes, row.basis)


def _start_level(case: Case, level: int, unit: OrgUnit, assignee, now: datetime) -> Assignment:
    policy = policy_for(level, case.category)
    case.level, case.unit, case.assignee = level, unit, assignee
    case.level_started_at = now
    case.response_due_at = policy.response_due(now)
    case.resolution_due_at = policy.resolution_due(now)
    case.escalate_at = case.response_due_at
    case.responded_at = None
    case.paused_at = None
    case.response_remaining = case.resolution_remaining = None
    case.overdue_notified_at = None
    return Assignment(case=case, level=level, unit=unit, assignee=assignee, started_at=now)


def _current_assignment(case: Case) -> Assignment:
    return case.assignments.filter(ended_at__isnull=True).order_by("-started_at", "-id").first()


def _mark_responded(case: Case, assignment: Assignment | None, now: datetime) -> None:
    if case.responded_at is not None:
        return
    case.responded_at = now
    case.escalate_at = case.resolution_due_at
    if assignment is not None and assignment.responded_at is None:
        assignment.responded_at = now
        assignment.responded_on_time = case.response_due_at is None or now <= case.response_due_at
        assignment.save(update_fields=["responded_at", "responded_on_time"])


def _end_assignment(
    assignment: Assignment | None, case: Case, end: str, now: datetime, overdue: bool = False
) -> None:
    if assignment is None:
        return
    assignment.ended_at, assignment.end = now, end
    if overdue:
        if assignment.responded_at is None:
            assignment.responded_on_time = False
        assignment.answered_on_time = False
    elif assignment.responded_at is None and end == Assignment.End.ESCALATED:
        assignment.responded_on_time = case.response_due_at is None or now <= case.response_due_at
    assignment.save()


# Saving ---------------------------------------------------------------------------------------

_CASE_FIELDS = [
    "status",
    "level",
    "unit",
    "assignee",
    "level_started_at",
    "response_due_at",
    "resolution_due_at",
    "escalate_at",
    "responded_at",
    "paused_at",
    "response_remaining",
    "resolution_remaining",
    "overdue_notified_at",
    "escalations",
    "answer",
    "answered_at",
    "answered_by",
    "satisfied",
    "rated_at",
    "closed_at",
    "reopen_count",
    "merged_into",
]


def _save(case: Case, now: datetime) -> None:
    """Write the case only if nobody changed it since it was read (optimistic lock)."""
    values = {name: getattr(case, name) for name in _CASE_FIELDS}
    changed = Case.objects.filter(pk=case.pk, version=case.version).update(
        version=F("version") + 1, updated_at=now, **values
    )
    if changed != 1:
        raise Conflict(_("This case was changed by someone else. Reload and try again."))
    case.version += 1


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


def _activity(
    case: Case,
    *,
    actor,
    action: str,
    from_status: str,
    note: str = "",
    now: datetime,
    visible: bool = True,
) -> Activity:
    return Activity.objects.create(
        case=case,
        at=now,
        actor=_person(actor),
        actor_label=_actor_label(actor),
        action=action,
        from_status=from_status,
        to_status=case.status,
        level=case.level,
        unit=case.unit,
        note=note,
        visible_to_driver=visible,
    )


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "display_name", "") or str(actor)


# Notifications --------------------------------------------------------------------------------

EVENT_TITLES = {
    "filed": gettext_lazy("New appeal %(number)s"),
    "accepted": gettext_lazy("Your appeal %(number)s was accepted"),
    "info_requested": gettext_lazy("Appeal %(number)s: more information is needed"),
    "answered": gettext_lazy("Appeal %(number)s was answered"),
    "escalated": gettext_lazy("Appeal %(number)s was escalated"),
    "overdue": gettext_lazy("Appeal %(number)s is overdue"),
}


def _unit_staff(unit: OrgUnit):
    return [
        g.user
        for g in Grant.objects.filter(unit=unit, user__is_active=True).select_related("user")[:20]
    ]


def _notify(case: Case, event: str, *, body: str = "", handlers: bool = False) -> None:
    title = str(EVENT_TITLES[event]) % {"number": case.number}
    payload = {
        "case_id": case.pk,
        "number": case.number,
        "status": case.status,
        "level": case.level,
    }
    recipients = {}
    driver_user = case.driver.user
    if driver_user is not None and event != "filed":
        recipients[driver_user.pk] = driver_user
    if case.assignee is not None:
        recipients[case.assignee.pk] = case.assignee
    if handlers:
        for person in _unit_staff(case.unit):
            recipients[person.pk] = person
    for person in recipients.values():
        notify_user(
            user=person, event=f"appeal.{event}", title=title, body=body[:500], payload=payload
        )
    if case.platform is not None and event != "filed":
        notify_platform(
            platform=case.platform,
            event=f"appeal.{event}",
            payload={
                **payload,
                "external_ref": case.external_ref,
                "driver_license_masked": case.driver.license_masked,
                "answer": case.answer if event == "answered" else "",
            },
        )


# Filing ---------------------------------------------------------------------------------------


def check_upload(upload) -> tuple[str, str]:
    """(content type, extension) of an accepted upload, or ValidationFailed."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
            code="attachment_too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for content_type, (magic, extension) in SIGNATURES.items():
        if head.startswith(magic):
            return content_type, extension
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
            saved.append((storage.save(name, upload), upload, content_type))
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


def _existing(idempotency_scope: str, key: str) -> Case | None:
    if not key:
        return None
    return Case.objects.filter(idempotency_scope=idempotency_scope, idempotency_key=key).first()


def case_file(
    *,
    actor,
    driver,
    category: str,
    title: str,
    description: str,
    channel: str,
    attachments=(),
    punishment=None,
    platform=None,
    idempotency_key: str = "",
    idempotency_scope: str | None = None,
    external_ref: str = "",
    mediation: dict | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """File an appeal (or a mediation) for `driver`. Returns (case, created).

    A retried request with the same idempotency key returns the case the first request made.
    Attachments are stored before the database transaction; if storing fails nothing is
    written, and if the transaction fails the stored files are removed again.
    """
    _require_filer(actor, driver, channel, platform)
    now = _now(now)
    acting_for = acting_platform(actor)
    if acting_for is not None:  # a platform files for itself, whatever else the driver drives for
        platform = platform or Platform.objects.get(pk=acting_for)
        if punishment is not None and punishment.platform_id != acting_for:
            raise NotFound()
    if category not in Category.values:
        raise ValidationFailed(_("Choose a category."))
    title, description = (title or "").strip(), (description or "").strip()
    if not title or not description:
        raise ValidationFailed(_("A title and a description are required."))
    idempotency_key = (idempotency_key or "").strip()[:80]
    if idempotency_scope is None:
        idempotency_scope = (
            f"platform:{acting_for}"
            if acting_for is not None
            else f"user:{getattr(actor, 'pk', None) or 'system'}"
        )
    found = _existing(idempotency_scope, idempotency_key)
    if found is not None:
        require(actor, "view", found)  # a reused key never answers with someone else's case
        return found, False
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(_("Attach at most %(n)s files.") % {"n": MAX_ATTACHMENTS})
    if punishment is not None:
        if punishment.driver_id != driver.pk:
            raise ValidationFailed(_("This penalty was not given to this driver."))
        category = Category.PENALTY
        platform = platform or punishment.platform
    platform = routing.platform_of(driver, platform)
    target = routing.route(driver, level=1, platform=platform)
    if target is None:
        raise ValidationFailed(
            _("No party organisation can take this appeal yet."), code="no_route"
        )
    is_mediation = mediation is not None
    if is_mediation:
        _check_mediation(mediation)
    saved = _store_files(attachments, now)
    try:
        with transaction.atomic():
            case = Case(
                number=uuid.uuid4().hex[:20],
                kind=Case.Kind.MEDIATION if is_mediation else Case.Kind.APPEAL,
                category=category,
                title=title[:120],
                description=description,
                driver=driver,
                platform=platform,
                punishment=punishment,
                channel=channel,
                filed_by=_person(actor),
                external_ref=external_ref[:64],
                idempotency_scope=idempotency_scope,
                idempotency_key=idempotency_key,
                status=Status.SUBMITTED,
            )
            level, unit, assignee = target
            assignment = _start_level(case, level, unit, assignee, now)
            case.save()
            case.number = f"SQ{now.astimezone(deadlines.TZ):%Y}{case.pk:06d}"
            Case.objects.filter(pk=case.pk).update(number=case.number, created_at=now)
            case.created_at = now
            assignment.case = case
            assignment.save()
            if is_mediation:
                Mediation.objects.create(case=case, **mediation)
            activity = _activity(
                case,
                actor=actor,
                action=Action.FILE,
                from_status="",
                now=now,
                note=_("Filed by %(channel)s.") % {"channel": case.get_channel_display()},
            )
            _attach(case, activity, saved)
            audit.record(
                actor=actor,
                action="appeal.file",
                obj=case,
                summary=f"{case.number} {case.get_category_display()}",
                data={"level": level, "unit": unit.pk, "channel": channel},
            )
            _notify(case, "filed", body=case.title, handlers=True)
    except IntegrityError:
        _remove_files([name for name, *_rest in saved])
        found = _existing(idempotency_scope, idempotency_key)
        if found is not None:  # a concurrent retry won the race
            require(actor, "view", found)
            return found, False
        raise
    except BaseException:
        _remove_files([name for name, *_rest in saved])
        raise
    return case, True


def _check_mediation(data: dict) -> None:
    allowed = {
        "passenger",
        "order_ref",
        "facts",
        "proposed_settlement",
        "compensate_first",
        "payer",
        "amount",
    }
    if set(data) - allowed:
        raise ValidationFailed(_("Unknown mediation fields."))
    if not (data.get("passenger") or "").strip() or not (data.get("facts") or "").strip():
        raise ValidationFailed(_("A mediation needs the passenger and the facts."))
    if data.get("compensate_first") and data.get("payer") is None:
        raise ValidationFailed(
            _("Compensating first needs the platform that pays."), code="payer_required"
        )


# Transitions ----------------------------------------------------------------------------------


def _load(case: Case) -> Case:
    """Re-read the case inside the transaction, locking its row where the database can."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("driver", "unit", "assignee", "platform")
        .get(pk=case.pk)
    )


def _step(actor, case: Case, action: str, now: datetime):
    fresh = _load(case)
    _require_action(actor, fresh, action)
    return fresh, fresh.status, _current_assignment(fresh)


def case_accept(*, actor, case: Case, note: str = "", now: datetime | None = None) -> Case:
    _guard(actor, case, Action.ACCEPT)
    now = _now(now)
    with transaction.atomic():
        case, before, assignment = _step(actor, case, Action.ACCEPT, now)
        case.status = Status.ACCEPTED
        if case.assignee is None and _person(actor) is not None:
            case.assignee = actor
        _mark_responded(case, assignment, now)
        _save(case, now)
        _activity(case, actor=actor, action=Action.ACCEPT, from_status=before, note=note, now=now)
        audit.record(actor=actor, action="appeal.accept", obj=case, summary=case.number)
        _notify(case, "accepted", body=note)
    return case


def case_request_info(*, actor, case: Case, question: str, now: datetime | None = None) -> Case:
    """Ask the driver for more: counts as a response, and pauses the resolution clock."""
    _guard(actor, case, Action.REQUEST_INFO)
    now = _now(now)
    question = (question or "").strip()
    if not question:
        raise ValidationFailed(_("Write what the driver should add."))
    with transaction.atomic():
        case, before, assignment = _step(actor, case, Action.REQUEST_INFO, now)
        _mark_responded(case, assignment, now)
        policy = policy_for(case.level, case.category)
        case.resolution_remaining = deadlines.remaining_seconds(policy, now, case.resolution_due_at)
        case.paused_at = now
        case.response_due_at = case.response_due_at if case.responded_at else None
        case.resolution_due_at = None
        case.escalate_at = None
        case.status = Status.WAITING
        _save(case, now)
        _activity(
            case,
            actor=actor,
            action=Action.REQUEST_INFO,
            from_status=before,
            note=question,
            now=now,
        )
        audit.record(actor=actor, action="appeal.request_info", obj=case, summary=case.number)
        _notify(case, "info_requested", body=question)
    return case


def case_provide_info(
    *, actor, case: Case, text: str, attachments=(), now: datetime | None = None
) -> Case:
    """The driver answers a request; the clock restarts with the time that was left."""
    _guard(actor, case, Action.PROVIDE_INFO)
    now = _now(now)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Write the information that was asked for."))
    saved = _store_files(list(attachments or []), now)
    try:
        with transaction.atomic():
            case, before, _assignment = _step(actor, case, Action.PROVIDE_INFO, now)
            policy = policy_for(case.level, case.category)
            case.resolution_due_at = deadlines.resume_due(policy, now, case.resolution_remaining)
            case.escalate_at = case.resolution_due_at
            case.paused_at = None
            case.resolution_remaining = None
            case.status = Status.ACCEPTED
            _save(case, now)
            activity = _activity(
                case,
                actor=actor,
                action=Action.PROVIDE_INFO,
                from_status=before,
                note=text,
                now=now,
            )
            _attach(case, activity, saved)
            audit.record(actor=actor, action="appeal.provide_info", obj=case, summary=case.number)
            for person in {
                u.pk: u for u in [case.assignee, *_unit_staff(case.unit)] if u is not None
            }.values():
                notify_user(
                    user=person,
                    event="appeal.info_provided",
                    title=_("Appeal %(number)s: the driver added information")
                    % {"number": case.number},
                    payload={"case_id": case.pk},
                )
    except BaseException:
        _remove_files([name for name, *_rest in saved])
        raise
    return case


def case_answer(*, actor, case: Case, answer: str, now: datetime | None = None) -> Case:
    _guard(actor, case, Action.ANSWER)
    now = _now(now)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed(
            _("A case can be answered only with an answer."), code="answer_required"
        )
    with transaction.atomic():
        case, before, assignment = _step(actor, case, Action.ANSWER, now)
        _mark_responded(case, assignment, now)
        on_time = case.paused_at is not None or not (
            case.resolution_due_at is not None and now > case.resolution_due_at
        )
        case.status = Status.ANSWERED
        case.answer, case.answered_at = answer, now
        case.answered_by = _person(actor)
        case.escalate_at = None
        case.paused_at = None
        case.resolution_remaining = None
        _save(case, now)
        if assignment is not None:
            assignment.answered_at = now
            assignment.answered_on_time = on_time
            assignment.answer_seconds = (now - assignment.started_at).total_seconds()
            _end_assignment(assignment, case, Assignment.End.ANSWERED, now)
        _activity(case, actor=actor, action=Action.ANSWER, from_status=before, note=answer, now=now)
        audit.record(actor=actor, action="appeal.answer", obj=case, summary=case.number)
        _notify(case, "answered", body=answer)
    return case


def _escalate(case: Case, *, actor, action: str, reason: str, now: datetime) -> Case:
    before = case.status
    assignment = _current_assignment(case)
    target = routing.route(
        case.driver, level=case.level + 1, platform=case.platform, current=case.unit
    )
    if target is None:
        raise InvalidTransition(_("The case is already at the top level."), code="top_level")
    overdue = action == Action.AUTO_ESCALATE
    _end_assignment(
        assignment,
        case,
        Assignment.End.AUTO_ESCALATED if overdue else Assignment.End.ESCALATED,
        now,
        overdue=overdue,
    )
    level, unit, assignee = target
    new_assignment = _start_level(case, level, unit, assignee, now)
    case.status = Status.SUBMITTED
    case.escalations += 1
    _save(case, now)
    new_assignment.save()
    _activity(case, actor=actor, action=action, from_status=before, note=reason, now=now)
    audit.record(
        actor=actor,
        action=f"appeal.{action}",
        obj=case,
        summary=f"{case.number} → L{level}",
        reason=reason[:300],
    )
    _notify(case, "escalated", body=reason, handlers=True)
    return case


def case_escalate(*, actor, case: Case, reason: str, now: datetime | None = None) -> Case:
    _guard(actor, case, Action.ESCALATE)
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the case goes up a level."))
    with transaction.atomic():
        case, _before, _assignment = _step(actor, case, Action.ESCALATE, now)
        return _escalate(case, actor=actor, action=Action.ESCALATE, reason=reason, now=now)


def _reopen_open(case: Case, now: datetime) -> bool:
    return case.answered_at is not None and now <= case.answered_at + REOPEN_WINDOW


def case_rate(
    *, actor, case: Case, satisfied: bool, comment: str = "", now: datetime | None = None
) -> Case:
    _guard(actor, case, Action.RATE)
    now = _now(now)
    with transaction.atomic():
        case, before, _assignment = _step(actor, case, Action.RATE, now)
        case.status = Status.CLOSED
        case.satisfied, case.rated_at, case.closed_at = bool(satisfied), now, now
        _save(case, now)
        answered = case.assignments.filter(end=Assignment.End.ANSWERED).order_by("-id").first()
        if answered is not None:
            Assignment.objects.filter(pk=answered.pk).update(satisfied=bool(satisfied))
        note = (_("Satisfied") if satisfied else _("Not satisfied")) + (
            f": {comment.strip()}" if comment.strip() else ""
        )
        _activity(case, actor=actor, action=Action.RATE, from_status=before, note=note, now=now)
        audit.record(
            actor=actor,
            action="appeal.rate",
            obj=case,
            summary=case.number,
            data={"satisfied": bool(satisfied)},
        )
    return case


def case_close(*, actor, case: Case, note: str = "", now: datetime | None = None) -> Case:
    """Close an answered case without a rating (staff, or the job after the reopen window)."""
    _guard(actor, case, Action.CLOSE)
    now = _now(now)
    with transaction.atomic():
        case, before, _assignment = _step(actor, case, Action.CLOSE, now)
        case.status, case.closed_at = Status.CLOSED, now
        _save(case, now)
        _activity(case, actor=actor, action=Action.CLOSE, from_status=before, note=note, now=now)
        audit.record(actor=actor, action="appeal.close", obj=case, summary=case.number)
    return case


def case_reopen(*, actor, case: Case, reason: str, now: datetime | None = None) -> Case:
    """The driver reopens within the window; history stays, the level's clock starts again."""
    _guard(actor, case, Action.REOPEN)
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the answer does not solve the problem."))
    with transaction.atomic():
        case, before, _assignment = _step(actor, case, Action.REOPEN, now)
        if not _reopen_open(case, now):
            raise InvalidTransition(
                _("The time to reopen this case has passed."), code="reopen_window_passed"
            )
        assignment = _start_level(case, case.level, case.unit, case.assignee, now)
        case.status = Status.SUBMITTED
        case.answer, case.answered_at, case.answered_by = "", None, None
        case.closed_at = None
        case.reopen_count += 1
        _save(case, now)
        assignment.save()
        _activity(case, actor=actor, action=Action.REOPEN, from_status=before, note=reason, now=now)
        audit.record(actor=actor, action="appeal.reopen", obj=case, summary=case.number)
        _notify(case, "filed", body=reason, handlers=True)
    return case


def case_merge(*, actor, case: Case, into: Case, now: datetime | None = None) -> Case:
    """Merge a duplicate into another open case of the same driver."""
    _guard(actor, case, Action.MERGE)
    _guard(actor, into, Action.MERGE)
    now = _now(now)
    if into.pk == case.pk or into.driver_id != case.driver_id:
        raise ValidationFailed(
            _("A case can be merged only into another case of the same driver."),
            code="merge_target",
        )
    with transaction.atomic():
        case, before, assignment = _step(actor, case, Action.MERGE, now)
        into = Case.objects.select_related("unit").get(pk=into.pk)
        if not into.is_open and into.status != Status.ANSWERED:
            raise ValidationFailed(_("The target case is not open."), code="merge_target")
        if not _can_handle(actor, into):
            raise NotFound()
        _end_assignment(assignment, case, Assignment.End.MERGED, now)
        case.status, case.merged_into, case.escalate_at = Status.MERGED, into, None
        _save(case, now)
        _activity(
            case,
            actor=actor,
            action=Action.MERGE,
            from_status=before,
            note=_("Merged into %(number)s.") % {"number": into.number},
            now=now,
        )
        audit.record(
            actor=actor, action="appeal.merge", obj=case, summary=f"{case.number} → {into.number}"
        )
    return case


def case_withdraw(*, actor, case: Case, reason: str = "", now: datetime | None = None) -> Case:
    _guard(actor, case, Action.WITHDRAW)
    now = _now(now)
    with transaction.atomic():
        case, before, assignment = _step(actor, case, Action.WITHDRAW, now)
        _end_assignment(assignment, case, Assignment.End.WITHDRAWN, now)
        case.status, case.escalate_at, case.paused_at = Status.WITHDRAWN, None, None
        _save(case, now)
        _activity(
            case, actor=actor, action=Action.WITHDRAW, from_status=before, note=reason, now=now
        )
        audit.record(actor=actor, action="appeal.withdraw", obj=case, summary=case.number)
    return case


def mediation_update(
    *,
    actor,
    case: Case,
    outcome: str,
    outcome_note: str = "",
    proposed_settlement: str | None = None,
    compensate_first: bool | None = None,
    payer=None,
    amount=None,
    now: datetime | None = None,
) -> Mediation:
    _guard(actor, case, Action.MEDIATION)
    now = _now(now)
    with transaction.atomic():
        case = _load(case)
        if not _can_handle(actor, case):
            raise NotFound()
        mediation = Mediation.objects.select_for_update().filter(case=case).first()
        if mediation is None:
            raise NotFound()
        if outcome not in Mediation.Outcome.values:
            raise ValidationFailed(_("Choose an outcome."))
        if proposed_settlement is not None:
            mediation.proposed_settlement = proposed_settlement
        if compensate_first is not None:
            mediation.compensate_first = compensate_first
        if payer is not None:
            mediation.payer = payer
        if amount is not None:
            mediation.amount = amount
        if mediation.compensate_first and mediation.payer_id is None:
            raise ValidationFailed(
                _("Compensating first needs the platform that pays."), code="payer_required"
            )
        mediation.outcome, mediation.outcome_note = outcome, outcome_note
        mediation.save()
        Activity.objects.create(
            case=case,
            at=now,
            actor=_person(actor),
            actor_label=_actor_label(actor),
            action=Action.MEDIATION,
            from_status=case.status,
            to_status=case.status,
            level=case.level,
            unit=case.unit,
            note=f"{mediation.get_outcome_display()} {outcome_note}".strip(),
        )
        audit.record(
            actor=actor,
            action="appeal.mediation",
            obj=case,
            summary=case.number,
            data={"outcome": outcome, "compensate_first": mediation.compensate_first},
        )
    return mediation


def deadline_policy_save(*, actor, policy: DeadlinePolicy) -> DeadlinePolicy:
    """Admin path: save an override; it applies to levels entered from now on.

    The policies are one rule book for the deployment (registered as internal): only
    operators and superusers keep it, so no city's staff changes another city's deadlines.
    """
    if not is_unscoped(actor):
        raise NotFound()
    with transaction.atomic():
        policy.save()
        audit.record(
            actor=actor,
            action="appeal.policy_save",
            obj=policy,
            summary=str(policy),
            data={
                "basis": policy.basis,
                "response": policy.response_minutes,
                "resolution": policy.resolution_minutes,
            },
        )
    return policy


# The periodic job -----------------------------------------------------------------------------

# The escalation job walks every city's due cases: an operator, the one unscoped kind of actor.
JOB_ACTOR = SystemActor.operator("appeals-escalation")


def _escalate_due_one(pk: int, now: datetime) -> str:
    """Escalate (or flag as overdue at the top) one due case; '' if another run took it."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, status__in=RUNNING, escalate_at__lte=now)
            .first()
        )
        if case is None:
            return ""
        # The conditional update is the guard where row locks do not exist (SQLite).
        claimed = Case.objects.filter(pk=pk, version=case.version).update(version=F("version") + 1)
        if claimed != 1:
            return ""
        case.version += 1
        case = Case.objects.select_related("driver", "unit", "assignee", "platform").get(pk=pk)
        level_name = case.get_level_display()
        reason = _("No answer from %(unit)s (%(level)s) by the deadline.") % {
            "unit": case.unit.name,
            "level": level_name,
        }
        if (
            routing.route(
                case.driver, level=case.level + 1, platform=case.platform, current=case.unit
            )
            is not None
        ):
            _escalate(case, actor=JOB_ACTOR, action=Action.AUTO_ESCALATE, reason=reason, now=now)
            return "escalated"
        before = case.status
        case.overdue_notified_at, case.escalate_at = now, None
        _save(case, now)
        _activity(
            case, actor=JOB_ACTOR, action=Action.OVERDUE, from_status=before, note=reason, now=now
        )
        audit.record(actor=JOB_ACTOR, action="appeal.overdue", obj=case, summary=case.number)
        _notify(case, "overdue", body=reason, handlers=True)
        return "overdue"


def escalate_due(*, now: datetime | None = None, limit: int = 500) -> dict:
    """The periodic job: escalate every running case whose deadline has passed, flag overdue
    cases at the top level, and close answered cases whose reopen window has passed.

    Safe to run twice or concurrently: each case is claimed under a skip-locked row lock and
    a conditional update on its version, so each due case moves exactly once.
    """
    now = _now(now)
    counts = {"escalated": 0, "overdue": 0, "closed": 0}
    due = list(
        Case.objects.filter(status__in=RUNNING, escalate_at__lte=now)
        .order_by("escalate_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        outcome = _escalate_due_one(pk, now)
        if outcome:
            counts[outcome] += 1
    stale = list(
        Case.objects.filter(
            status=Status.ANSWERED, answered_at__lte=now - REOPEN_WINDOW
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in stale:
        try:
            case_close(
                actor=JOB_ACTOR,
                case=Case(pk=pk),
                note=_("Closed after the reopen window."),
                now=now,
            )
            counts["closed"] += 1
        except (InvalidTransition, Conflict, Case.DoesNotExist):
            continue
    return counts
