"""Writes for member evaluation (民主评议). Each checks permission itself, runs in one
transaction and writes one audit entry.

Who does what:
- the branch (`change` on the round's branch: its secretary, organiser or staff above) opens a
  round, starts and closes voting and decides the conclusions;
- the committee (`change` on a unit above the branch) records the round;
- each participating member writes their own self-assessment and casts their own ballot.

The ballot is secret (see models.py): a vote writes a `VoteReceipt` (round, voter) and fills
one randomly drawn empty `Ballot` slot (round, subject, choice) per other participant. The
audit entry says "voted in round …" and nothing about the choices; nothing here logs them.
"""

import random

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.core import audit
from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import acting_platform, can, is_unscoped, require
from redwheel.core.states import StateMachine, Transition
from redwheel.core.validators import UNSAFE_TEXT_MESSAGE, contains_unsafe_text
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.evaluation.models import (
    Ballot,
    Grade,
    Participant,
    Round,
    RoundActivity,
    VoteReceipt,
)

State = Round.State
Action = RoundActivity.Action

FIRST_YEAR = 2000
MAX_TEXT = 5000
# Units that hold members and may run an evaluation (not the city committee, not a group).
EVALUATING_KINDS = (
    OrgUnit.Kind.BRANCH,
    OrgUnit.Kind.GENERAL_BRANCH,
    OrgUnit.Kind.ENTERPRISE_COMMITTEE,
)
MIN_PARTICIPANTS = 2

_random = random.SystemRandom()


def _all_concluded(rnd: Round) -> bool:
    return not rnd.participants.filter(conclusion="").exists()


def _enough_participants(rnd: Round) -> bool:
    return rnd.participants.count() >= MIN_PARTICIPANTS


ROUND = StateMachine(
    activity_model=RoundActivity,
    parent_field="round",
    audit_prefix="evaluation",
    from_field="from_status",
    to_field="to_status",
    changed_at_field="state_changed_at",
    audit_summary=str,
    transitions={
        Action.OPEN: Transition({None}, State.OPEN),
        Action.START_VOTING: Transition(
            {State.OPEN},
            State.VOTING,
            guard=_enough_participants,
            refusal=gettext_lazy("A vote needs at least two participating members."),
            code="too_few_participants",
        ),
        Action.CLOSE: Transition({State.VOTING}, State.CLOSED),
        Action.RECORD: Transition(
            {State.CLOSED},
            State.RECORDED,
            guard=_all_concluded,
            refusal=gettext_lazy("The branch has not yet concluded on every member."),
            code="conclusions_missing",
        ),
    },
)


def allowed_actions(rnd: Round) -> list[str]:
    return ROUND.allowed_actions(rnd)


# Who -------------------------------------------------------------------------------------------


def _is_self(actor, driver: Driver) -> bool:
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and driver.user_id is not None
        and driver.user_id == actor.pk
    )


def may_record(viewer, rnd: Round) -> bool:
    """The committee: `change` on a unit above the round's branch (a grant on the branch itself
    is the branch's, not the committee's)."""
    if is_unscoped(viewer):
        return True
    parent = rnd.branch.parent
    return parent is not None and can(viewer, "change", parent)


def _person(actor) -> bool:
    """A signed-in person (not a token, feed or operator)."""
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and getattr(actor, "pk", None) is not None
    )


def _locked(actor, rnd: Round, action: str) -> Round:
    require(actor, action, rnd)
    return Round.objects.select_for_update(of=("self",)).select_related("branch").get(pk=rnd.pk)


def _members(branch: OrgUnit):
    """The branch's verified full and probationary members (their Membership.branch)."""
    return Driver.objects.filter(
        membership__branch=branch,
        membership__state=Membership.State.VERIFIED,
        membership__category__in=PARTY_MEMBER_CATEGORIES,
    ).order_by("id")


def _add_participants(rnd: Round) -> int:
    present = rnd.participants.values("driver_id")
    new = [Participant(round=rnd, driver=d) for d in _members(rnd.branch).exclude(pk__in=present)]
    Participant.objects.bulk_create(new)
    return len(new)


# The round -------------------------------------------------------------------------------------


def round_open(*, actor, branch: OrgUnit, year: int) -> Round:
    """Open the year's round for a branch; its verified members become the participants."""
    require(actor, "change", branch)
    if branch.kind not in EVALUATING_KINDS:
        raise ValidationFailed(
            _("An evaluation is held by a branch, general branch or enterprise committee."),
            details={"branch": [_("Choose a unit that holds members.")]},
        )
    this_year = local_date().year
    if not FIRST_YEAR <= int(year) <= this_year:
        message = _("The year must be between %(first)s and %(last)s.") % {
            "first": FIRST_YEAR,
            "last": this_year,
        }
        raise ValidationFailed(message, details={"year": [message]})
    if _members(branch).count() < MIN_PARTICIPANTS:
        raise ValidationFailed(
            _("This unit has fewer than two verified members to evaluate each other."),
            code="too_few_members",
        )
    with transaction.atomic():
        if Round.objects.filter(branch=branch, year=year).exists():
            raise Conflict(_("This branch already has an evaluation round for that year."))
        rnd = Round(branch=branch, year=int(year), opened_by=actor if _person(actor) else None)
        try:
            with transaction.atomic():
                ROUND.apply(rnd, Action.OPEN, actor=actor)
        except IntegrityError:
            raise Conflict(
                _("This branch already has an evaluation round for that year.")
            ) from None
        _add_participants(rnd)
    return rnd


def round_start_voting(*, actor, round: Round) -> Round:
    """Self-assessments end and the secret ballot opens. Members verified in the branch since
    the round opened join it now; from here on the participants are fixed. Every ballot slot
    of the round is created here, empty and shuffled, so that voting inserts no ballot row."""
    with transaction.atomic():
        rnd = _locked(actor, round, "change")
        if rnd.state != State.OPEN:
            ROUND.check(rnd, Action.START_VOTING)  # refuses, naming the state
        _add_participants(rnd)
        ROUND.apply(rnd, Action.START_VOTING, actor=actor)
        subjects = list(rnd.participants.values_list("pk", flat=True))
        slots = [
            Ballot(round=rnd, subject_id=subject)
            for subject in subjects
            for _other in range(len(subjects) - 1)
        ]
        _random.shuffle(slots)
        Ballot.objects.bulk_create(slots)
    return rnd


def round_close(*, actor, round: Round) -> Round:
    """Voting ends and the tally becomes visible. Slots of members who did not vote are
    dropped, and every remaining ballot of the round is rewritten in one statement, so that
    on PostgreSQL the live rows no longer carry the transaction of the vote that filled them."""
    with transaction.atomic():
        rnd = _locked(actor, round, "change")
        ROUND.apply(rnd, Action.CLOSE, actor=actor)
        Ballot.objects.filter(round=rnd, choice="").delete()
        Ballot.objects.filter(round=rnd).update(choice=F("choice"))
    return rnd


def round_record(*, actor, round: Round, note: str = "") -> Round:
    """The committee above the branch confirms the round and its conclusions."""
    require(actor, "view", round)
    with transaction.atomic():
        rnd = (
            Round.objects.select_for_update(of=("self",)).select_related("branch").get(pk=round.pk)
        )
        if not may_record(actor, rnd):
            raise NotFound()
        note = _text(note, 300, "note")
        ROUND.apply(rnd, Action.RECORD, actor=actor, note=note, changes={"committee_note": note})
    return rnd


# The members' part -----------------------------------------------------------------------------


def _text(value: str, limit: int, field: str) -> str:
    value = (value or "").strip()
    if contains_unsafe_text(value):
        raise ValidationFailed(UNSAFE_TEXT_MESSAGE, details={field: [str(UNSAFE_TEXT_MESSAGE)]})
    if len(value) > limit:
        message = _("At most %(n)s characters.") % {"n": limit}
        raise ValidationFailed(message, details={field: [message]})
    return value


def self_assessment_save(*, actor, participant: Participant, text: str) -> Participant:
    """A member writes their own self-assessment while the round is open."""
    require(actor, "view", participant)
    with transaction.atomic():
        p = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("driver", "round")
            .get(pk=participant.pk)
        )
        if not _is_self(actor, p.driver):
            raise NotFound()
        if p.round.state != State.OPEN:
            raise InvalidTransition(
                _("Self-assessments are written before voting starts."),
                code="self_assessment_closed",
            )
        p.self_assessment = _text(text, MAX_TEXT, "text")
        p.save(update_fields=["self_assessment", "updated_at"])
        audit.record(actor=actor, action="evaluation.self_assess", obj=p, summary=str(p.round))
    return p


def _clean_choices(choices: dict, subjects: list[int]) -> dict[int, str]:
    cleaned: dict[int, str] = {}
    for key, value in (choices or {}).items():
        try:
            subject = int(key)
        except (TypeError, ValueError):
            subject = None
        if subject not in subjects or value not in Grade.values:
            raise ValidationFailed(_("The ballot is not valid."), code="bad_ballot")
        cleaned[subject] = value
    if set(cleaned) != set(subjects):
        raise ValidationFailed(
            _("Choose a grade for every other member on the ballot."), code="incomplete_ballot"
        )
    return cleaned


def _fill_slot(rnd: Round, subject: int, choice: str) -> None:
    for _attempt in range(20):
        slot = (
            Ballot.objects.filter(round=rnd, subject_id=subject, choice="")
            .order_by("?")
            .values_list("pk", flat=True)
            .first()
        )
        if slot is None:
            break
        if Ballot.objects.filter(pk=slot, choice="").update(choice=choice) == 1:
            return
    raise Conflict(_("The ballot could not be stored; please try again."))


def ballot_cast(*, actor, round: Round, choices: dict) -> VoteReceipt:
    """A member votes once per round: a grade for every other participant (`choices` maps a
    participant id to a `Grade` value). Stored apart from the receipt and without a voter."""
    require(actor, "view", round)
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=round.pk)
        voter = (
            rnd.participants.select_related("driver").filter(driver__user_id=actor.pk).first()
            if _person(actor)
            else None
        )
        if voter is None:
            raise NotFound()
        if rnd.state != State.VOTING:
            raise InvalidTransition(_("Voting is not open in this round."), code="voting_closed")
        subjects = list(rnd.participants.exclude(pk=voter.pk).values_list("pk", flat=True))
        cleaned = _clean_choices(choices, subjects)
        already = Conflict(_("You have already voted in this round."), code="already_voted")
        if VoteReceipt.objects.filter(round=rnd, voter=voter).exists():
            raise already
        try:
            with transaction.atomic():
                receipt = VoteReceipt.objects.create(round=rnd, voter=voter)
        except IntegrityError:
            raise already from None
        order = list(cleaned)
        _random.shuffle(order)
        for subject in order:
            _fill_slot(rnd, subject, cleaned[subject])
        audit.record(
            actor=actor,
            action="evaluation.vote",
            obj=rnd,
            summary=_("Voted in round %(round)s") % {"round": rnd},
        )
    return receipt


# The branch's conclusion -----------------------------------------------------------------------


def conclusion_set(*, actor, participant: Participant, grade: str, note: str = "") -> Participant:
    """After the vote closes, the branch decides each member's grade, with its reasons."""
    require(actor, "view", participant)
    with transaction.atomic():
        rnd = _locked(actor, participant.round, "change")
        p = Participant.objects.select_for_update().get(pk=participant.pk)
        if rnd.state != State.CLOSED:
            raise InvalidTransition(
                _("Conclusions are decided after voting closes and before the round is recorded."),
                code="not_closed",
            )
        if grade not in Grade.values:
            message = _("Choose one of the four grades.")
            raise ValidationFailed(message, details={"grade": [message]})
        p.conclusion = grade
        p.conclusion_note = _text(note, MAX_TEXT, "note")
        p.save(update_fields=["conclusion", "conclusion_note", "updated_at"])
        audit.record(
            actor=actor,
            action="evaluation.conclude",
            obj=p,
            summary=str(p),
            data={"grade": grade},
        )
    return p
