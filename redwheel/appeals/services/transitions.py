"""The steps on a filed case: accept, ask for and provide information, answer, escalate,
rate, close, reopen, merge, withdraw, and the mediation record.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.appeals import deadlines
from redwheel.appeals.models import Activity, Assignment, Case, Mediation, Status
from redwheel.appeals.services.attachments import _attach, _remove_files, _store_files
from redwheel.appeals.services.common import (
    CASE,
    Action,
    _actor_label,
    _can_handle,
    _end_assignment,
    _escalate,
    _guard,
    _load,
    _mark_responded,
    _notify,
    _now,
    _person,
    _reopen_open,
    _start_level,
    _step,
    _unit_staff,
    policy_for,
)
from redwheel.core import audit
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.notifications import notify_user


def case_accept(*, actor, case: Case, note: str = "", now: datetime | None = None) -> Case:
    _guard(actor, case, Action.ACCEPT)
    now = _now(now)
    with transaction.atomic():
        case, assignment = _step(actor, case, Action.ACCEPT, now)
        if case.assignee is None and _person(actor) is not None:
            case.assignee = actor
        _mark_responded(case, assignment, now)
        CASE.apply(case, Action.ACCEPT, actor=actor, note=note, now=now)
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
        case, assignment = _step(actor, case, Action.REQUEST_INFO, now)
        _mark_responded(case, assignment, now)
        policy = policy_for(case.level, case.category)
        case.resolution_remaining = deadlines.remaining_seconds(policy, now, case.resolution_due_at)
        case.paused_at = now
        case.response_due_at = case.response_due_at if case.responded_at else None
        case.resolution_due_at = None
        case.escalate_at = None
        CASE.apply(case, Action.REQUEST_INFO, actor=actor, note=question, now=now)
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
            case, _assignment = _step(actor, case, Action.PROVIDE_INFO, now)
            policy = policy_for(case.level, case.category)
            case.resolution_due_at = deadlines.resume_due(policy, now, case.resolution_remaining)
            case.escalate_at = case.resolution_due_at
            case.paused_at = None
            case.resolution_remaining = None
            activity = CASE.apply(case, Action.PROVIDE_INFO, actor=actor, note=text, now=now)
            _attach(case, activity, saved)
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
        case, assignment = _step(actor, case, Action.ANSWER, now)
        _mark_responded(case, assignment, now)
        on_time = case.paused_at is not None or not (
            case.resolution_due_at is not None and now > case.resolution_due_at
        )
        case.answer, case.answered_at = answer, now
        case.answered_by = _person(actor)
        case.escalate_at = None
        case.paused_at = None
        case.resolution_remaining = None
        CASE.apply(case, Action.ANSWER, actor=actor, note=answer, now=now)
        if assignment is not None:
            assignment.answered_at = now
            assignment.answered_on_time = on_time
            assignment.answer_seconds = (now - assignment.started_at).total_seconds()
            _end_assignment(assignment, case, Assignment.End.ANSWERED, now)
        _notify(case, "answered", body=answer)
    return case


def case_escalate(*, actor, case: Case, reason: str, now: datetime | None = None) -> Case:
    _guard(actor, case, Action.ESCALATE)
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the case goes up a level."))
    with transaction.atomic():
        case, _assignment = _step(actor, case, Action.ESCALATE, now)
        return _escalate(case, actor=actor, action=Action.ESCALATE, reason=reason, now=now)


def case_rate(
    *, actor, case: Case, satisfied: bool, comment: str = "", now: datetime | None = None
) -> Case:
    _guard(actor, case, Action.RATE)
    now = _now(now)
    with transaction.atomic():
        case, _assignment = _step(actor, case, Action.RATE, now)
        case.satisfied, case.rated_at, case.closed_at = bool(satisfied), now, now
        note = (_("Satisfied") if satisfied else _("Not satisfied")) + (
            f": {comment.strip()}" if comment.strip() else ""
        )
        CASE.apply(
            case,
            Action.RATE,
            actor=actor,
            note=note,
            now=now,
            audit_data={"satisfied": bool(satisfied)},
        )
        answered = case.assignments.filter(end=Assignment.End.ANSWERED).order_by("-id").first()
        if answered is not None:
            Assignment.objects.filter(pk=answered.pk).update(satisfied=bool(satisfied))
    return case


def case_close(*, actor, case: Case, note: str = "", now: datetime | None = None) -> Case:
    """Close an answered case without a rating (staff, or the job after the reopen window)."""
    _guard(actor, case, Action.CLOSE)
    now = _now(now)
    with transaction.atomic():
        case, _assignment = _step(actor, case, Action.CLOSE, now)
        case.closed_at = now
        CASE.apply(case, Action.CLOSE, actor=actor, note=note, now=now)
    return case


def case_reopen(*, actor, case: Case, reason: str, now: datetime | None = None) -> Case:
    """The driver reopens within the window; history stays, the level's clock starts again."""
    _guard(actor, case, Action.REOPEN)
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the answer does not solve the problem."))
    with transaction.atomic():
        case, _assignment = _step(actor, case, Action.REOPEN, now)
        if not _reopen_open(case, now):
            raise InvalidTransition(
                _("The time to reopen this case has passed."), code="reopen_window_passed"
            )
        assignment = _start_level(case, case.level, case.unit, case.assignee, now)
        case.answer, case.answered_at, case.answered_by = "", None, None
        case.closed_at = None
        case.reopen_count += 1
        CASE.apply(case, Action.REOPEN, actor=actor, note=reason, now=now)
        assignment.save()
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
        case, assignment = _step(actor, case, Action.MERGE, now)
        into = Case.objects.select_related("unit").get(pk=into.pk)
        if not into.is_open and into.status != Status.ANSWERED:
            raise ValidationFailed(_("The target case is not open."), code="merge_target")
        if not _can_handle(actor, into):
            raise NotFound()
        _end_assignment(assignment, case, Assignment.End.MERGED, now)
        case.merged_into, case.escalate_at = into, None
        CASE.apply(
            case,
            Action.MERGE,
            actor=actor,
            note=_("Merged into %(number)s.") % {"number": into.number},
            now=now,
            audit_summary=f"{case.number} → {into.number}",
        )
    return case


def case_withdraw(*, actor, case: Case, reason: str = "", now: datetime | None = None) -> Case:
    _guard(actor, case, Action.WITHDRAW)
    now = _now(now)
    with transaction.atomic():
        case, assignment = _step(actor, case, Action.WITHDRAW, now)
        _end_assignment(assignment, case, Assignment.End.WITHDRAWN, now)
        case.escalate_at, case.paused_at = None, None
        CASE.apply(case, Action.WITHDRAW, actor=actor, note=reason, now=now)
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
        # Not a step of the case: its status does not move and the case row is not written.
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
