"""Evaluation pages: the branch's and committee's (staff) and the member's own (phone first).

Thin: parse, call one service or selector, render. Out of scope answers 404. The tally is
rendered only for closed rounds; the member's pages never show what they chose.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from redwheel.accounts.decorators import driver_required, staff_required
from redwheel.core.forms import domain_errors, require_valid
from redwheel.core.guards import found_or_404, writable_or_404
from redwheel.core.paging import paginate
from redwheel.party.evaluation import selectors, services
from redwheel.party.evaluation.forms import (
    BallotForm,
    ConclusionForm,
    OpenRoundForm,
    RecordForm,
    SelfAssessmentForm,
)
from redwheel.party.evaluation.models import Grade, Participant, Round

PAGE_SIZE = 30


# Staff -----------------------------------------------------------------------------------------


def _list_page(request, form=None, status=200):
    branches = selectors.openable_branches(request.user)
    if form is None and branches.exists():
        form = OpenRoundForm(branches=branches)
    return render(
        request,
        "evaluation/rounds.html",
        {"page": paginate(request, selectors.rounds(request.user), PAGE_SIZE), "form": form},
        status=status,
    )


@staff_required
@require_safe
def round_list(request):
    return _list_page(request)


@staff_required
@require_POST
def round_open(request):
    branches = writable_or_404(selectors.openable_branches(request.user))
    form = OpenRoundForm(request.POST, branches=branches)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        rnd = services.round_open(actor=request.user, branch=data["branch"], year=data["year"])
        messages.success(request, _("The evaluation round is open for self-assessments."))
        return redirect("evaluation:round", pk=rnd.pk)
    return _list_page(request, form=form, status=caught.status)


def _detail_page(request, rnd: Round, status=200, conclusion_forms=None, record_form=None):
    perms = selectors.permissions_on(request.user, rnd)
    people = selectors.participants(rnd)
    voted, total = selectors.turnout(rnd)
    tally = selectors.tally(request.user, rnd) if rnd.tally_visible else None
    conclusion_forms = conclusion_forms or {}
    if perms["change"] and rnd.state == Round.State.CLOSED:
        for p in people:
            conclusion_forms.setdefault(
                p.pk,
                ConclusionForm(
                    prefix=f"c{p.pk}", initial={"grade": p.conclusion, "note": p.conclusion_note}
                ),
            )
    rows = [
        {
            "participant": p,
            "tally": next((t for t in tally or [] if t.participant.pk == p.pk), None),
            "form": conclusion_forms.get(p.pk),
        }
        for p in people
    ]
    return render(
        request,
        "evaluation/round.html",
        {
            "round": rnd,
            "rows": rows,
            "grades": Grade.choices,
            "voted": voted,
            "total": total,
            "perms": perms,
            "allowed": services.allowed_actions(rnd),
            "record_form": record_form or RecordForm(),
            "timeline": selectors.timeline(rnd),
        },
        status=status,
    )


@staff_required
@require_safe
def round_detail(request, pk: int):
    return _detail_page(request, selectors.round_get(request.user, pk))


def _step(request, pk: int, service, done: str):
    rnd = selectors.round_get(request.user, pk, action="change")
    with domain_errors(request):
        service(actor=request.user, round=rnd)
        messages.success(request, done)
    return redirect("evaluation:round", pk=rnd.pk)


@staff_required
@require_POST
def round_start_voting(request, pk: int):
    return _step(request, pk, services.round_start_voting, _("Voting is open."))


@staff_required
@require_POST
def round_close(request, pk: int):
    return _step(request, pk, services.round_close, _("Voting is closed; the tally is shown."))


@staff_required
@require_POST
def round_record(request, pk: int):
    rnd = selectors.round_get(request.user, pk)
    if not services.may_record(request.user, rnd):
        raise Http404
    form = RecordForm(request.POST)
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.round_record(actor=request.user, round=rnd, note=data["note"])
        messages.success(request, _("The round is recorded."))
        return redirect("evaluation:round", pk=rnd.pk)
    return _detail_page(request, rnd, status=caught.status, record_form=form)


@staff_required
@require_POST
def conclusion_set(request, pk: int):
    participant = found_or_404(
        request.user, "change", Participant.objects.select_related("round", "round__branch"), pk=pk
    )
    form = ConclusionForm(request.POST, prefix=f"c{participant.pk}")
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.conclusion_set(
            actor=request.user, participant=participant, grade=data["grade"], note=data["note"]
        )
        messages.success(
            request, _("Conclusion saved for %(name)s.") % {"name": participant.driver.name}
        )
        return redirect("evaluation:round", pk=participant.round_id)
    rnd = selectors.round_get(request.user, participant.round_id)
    return _detail_page(request, rnd, status=caught.status, conclusion_forms={participant.pk: form})


# The member's own ------------------------------------------------------------------------------


def _my_page(request, status=200, self_form=None):
    participations = list(selectors.own_participations(request.user)[:10])
    for p in participations:
        if p.round.state == Round.State.OPEN:
            p.form = (
                self_form
                if self_form is not None and self_form.round_pk == p.round_id
                else SelfAssessmentForm(initial={"text": p.self_assessment})
            )
    return render(request, "evaluation/me.html", {"participations": participations}, status=status)


@driver_required
@require_safe
def my_rounds(request):
    return _my_page(request)


@driver_required
@require_POST
def my_self_assessment(request, pk: int):
    participant = selectors.own_participation(request.user, pk)
    form = SelfAssessmentForm(request.POST)
    form.round_pk = participant.round_id
    with domain_errors(form=form) as caught:
        data = require_valid(form)
        services.self_assessment_save(
            actor=request.user, participant=participant, text=data["text"]
        )
        messages.success(request, _("Your self-assessment is saved."))
        return redirect("evaluation:me")
    return _my_page(request, status=caught.status, self_form=form)


@driver_required
def my_ballot(request, pk: int):
    participant = selectors.own_participation(request.user, pk)
    rnd = participant.round
    subjects = selectors.ballot_subjects(participant)
    status = 200
    form = None
    if rnd.state == Round.State.VOTING and not participant.voted:
        if request.method == "POST":
            form = BallotForm(request.POST, subjects=subjects)
            with domain_errors(form=form) as caught:
                require_valid(form)
                services.ballot_cast(actor=request.user, round=rnd, choices=form.choices())
                messages.success(request, _("Your vote is cast. Thank you."))
                return redirect("evaluation:ballot", pk=rnd.pk)
            status = caught.status
        else:
            form = BallotForm(subjects=subjects)
    elif request.method == "POST":
        messages.error(
            request,
            _("You have already voted in this round.")
            if participant.voted
            else _("Voting is not open in this round."),
        )
        return redirect("evaluation:ballot", pk=rnd.pk)
    return render(
        request,
        "evaluation/me_ballot.html",
        {"participant": participant, "round": rnd, "form": form, "subjects": subjects},
        status=status,
    )
