"""The evaluation round through its services: the state machine, who may do each step, the
ballot's rules (once per member, every other member graded), the tally only after closing."""

import pytest

from redwheel import testing
from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.party.evaluation import selectors, services
from redwheel.party.evaluation.models import Ballot, Participant, Round, VoteReceipt

pytestmark = pytest.mark.django_db

YEAR = local_date().year


@pytest.fixture
def branch(city):
    members = [city.member(f"党员{n}") for n in range(3)]
    secretary = testing.staff(city.branch_a, "secretary")
    return city, members, secretary


def _open(city, secretary, year=YEAR):
    return services.round_open(actor=secretary, branch=city.branch_a, year=year)


def _vote_all(rnd, members, grade="qualified"):
    for m in members:
        mine = rnd.participants.get(driver=m)
        choices = {p.pk: grade for p in rnd.participants.exclude(pk=mine.pk)}
        services.ballot_cast(actor=m.user, round=rnd, choices=choices)


def test_opening_takes_the_branchs_verified_full_and_probationary_members(branch):
    city, members, secretary = branch
    probationary = city.member("预备", category="probationary")
    city.member("积极分子", category="activist")
    city.member("未核实", verified=False)
    city.member("乙", platform=city.platform_b)  # another branch
    rnd = _open(city, secretary)
    assert rnd.state == Round.State.OPEN
    assert set(rnd.participants.values_list("driver_id", flat=True)) == {
        *(m.pk for m in members),
        probationary.pk,
    }
    assert list(rnd.activities.values_list("action", "to_status")) == [("open", "open")]


def test_one_round_per_branch_and_year(branch):
    city, _members, secretary = branch
    _open(city, secretary)
    with pytest.raises(Conflict):
        _open(city, secretary)
    _open(city, secretary, year=YEAR - 1)  # another year is fine
    assert Round.objects.filter(branch=city.branch_a).count() == 2


@pytest.mark.parametrize("year", [YEAR + 1, 1999])
def test_a_year_out_of_range_is_refused(branch, year):
    city, _members, secretary = branch
    with pytest.raises(ValidationFailed):
        _open(city, secretary, year=year)
    assert not Round.objects.exists()


def test_a_branch_with_one_member_cannot_evaluate(city):
    city.member()
    with pytest.raises(ValidationFailed) as caught:
        services.round_open(actor=city.admin, branch=city.branch_a, year=YEAR)
    assert caught.value.code == "too_few_members"


def test_only_the_branch_or_above_opens_a_round(branch):
    city, _members, _secretary = branch
    other_branch = testing.staff(city.branch_b, "secretary")
    viewer = testing.staff(city.root, "viewer")
    for actor in (other_branch, viewer):
        with pytest.raises(NotFound):
            services.round_open(actor=actor, branch=city.branch_a, year=YEAR)
    assert not Round.objects.exists()


def test_the_whole_round(branch):
    city, members, secretary = branch
    committee = testing.staff(city.committee_a, "staff")
    rnd = _open(city, secretary)
    mine = rnd.participants.get(driver=members[0])
    services.self_assessment_save(actor=members[0].user, participant=mine, text="认真学习")
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members[:2], grade="excellent")
    services.round_close(actor=secretary, round=rnd)
    tally = {row.participant.driver_id: row.counts for row in selectors.tally(secretary, rnd)}
    # Each of the two voters graded the two others: members[2] got two votes, the voters one.
    assert tally == {
        members[0].pk: {"excellent": 1},
        members[1].pk: {"excellent": 1},
        members[2].pk: {"excellent": 2},
    }
    for p in rnd.participants.all():
        services.conclusion_set(actor=secretary, participant=p, grade="qualified", note="良好")
    services.round_record(actor=committee, round=rnd, note="同意")
    rnd.refresh_from_db()
    assert rnd.state == Round.State.RECORDED
    assert rnd.committee_note == "同意"
    assert list(rnd.activities.values_list("action", flat=True)) == [
        "open",
        "start_voting",
        "close",
        "record",
    ]
    mine.refresh_from_db()
    assert mine.self_assessment == "认真学习"


def test_starting_the_vote_adds_members_verified_since_and_creates_empty_slots(branch):
    city, _members, secretary = branch
    rnd = _open(city, secretary)
    late = city.member("新党员")
    services.round_start_voting(actor=secretary, round=rnd)
    assert rnd.participants.filter(driver=late).exists()
    # Four participants: each is graded by the three others.
    assert Ballot.objects.filter(round=rnd, choice="").count() == 4 * 3
    assert not Ballot.objects.exclude(choice="").exists()


@pytest.mark.parametrize(
    "step, state",
    [
        ("close", "open"),
        ("record", "open"),
        ("start_voting", "voting"),
        ("record", "voting"),
        ("start_voting", "closed"),
        ("close", "closed"),
        ("close", "recorded"),
    ],
)
def test_state_machine_refuses_steps_out_of_order(branch, step, state):
    city, _members, secretary = branch
    rnd = _open(city, secretary)
    if state != "open":
        services.round_start_voting(actor=secretary, round=rnd)
    if state in ("closed", "recorded"):
        services.round_close(actor=secretary, round=rnd)
    if state == "recorded":
        for p in rnd.participants.all():
            services.conclusion_set(actor=secretary, participant=p, grade="qualified")
        services.round_record(actor=city.admin, round=rnd)
    do = {
        "start_voting": services.round_start_voting,
        "close": services.round_close,
        "record": services.round_record,
    }[step]
    with pytest.raises(InvalidTransition):
        do(actor=city.admin, round=rnd)
    rnd.refresh_from_db()
    assert rnd.state == state


def test_recording_needs_every_conclusion_and_the_committee(branch):
    city, _members, secretary = branch
    committee = testing.staff(city.committee_a, "staff")
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    services.round_close(actor=secretary, round=rnd)
    first, *rest = list(rnd.participants.all())
    services.conclusion_set(actor=secretary, participant=first, grade="basic", note="需改进")
    with pytest.raises(InvalidTransition) as caught:
        services.round_record(actor=committee, round=rnd)
    assert caught.value.code == "conclusions_missing"
    for p in rest:
        services.conclusion_set(actor=secretary, participant=p, grade="qualified")
    with pytest.raises(NotFound):  # the branch's own secretary is not the committee
        services.round_record(actor=secretary, round=rnd)
    services.round_record(actor=committee, round=rnd)
    with pytest.raises(InvalidTransition):  # recorded: conclusions are final
        services.conclusion_set(actor=secretary, participant=first, grade="excellent")


def test_conclusions_wait_for_the_close_and_take_one_of_the_four_grades(branch):
    city, _members, secretary = branch
    rnd = _open(city, secretary)
    p = rnd.participants.first()
    with pytest.raises(InvalidTransition):
        services.conclusion_set(actor=secretary, participant=p, grade="qualified")
    services.round_start_voting(actor=secretary, round=rnd)
    services.round_close(actor=secretary, round=rnd)
    with pytest.raises(ValidationFailed):
        services.conclusion_set(actor=secretary, participant=p, grade="perfect")
    assert Participant.objects.get(pk=p.pk).conclusion == ""


def test_a_member_writes_only_their_own_self_assessment_and_only_while_open(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    mine = rnd.participants.get(driver=members[0])
    for actor in (members[1].user, secretary):
        with pytest.raises(NotFound):
            services.self_assessment_save(actor=actor, participant=mine, text="代写")
    services.round_start_voting(actor=secretary, round=rnd)
    with pytest.raises(InvalidTransition):
        services.self_assessment_save(actor=members[0].user, participant=mine, text="晚了")
    mine.refresh_from_db()
    assert mine.self_assessment == ""


def test_double_voting_is_refused(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members[:1])
    filled = Ballot.objects.exclude(choice="").count()
    with pytest.raises(Conflict) as caught:
        _vote_all(rnd, members[:1], grade="unqualified")
    assert caught.value.code == "already_voted"
    assert VoteReceipt.objects.count() == 1
    assert Ballot.objects.exclude(choice="").count() == filled == 2
    assert not Ballot.objects.filter(choice="unqualified").exists()


def test_the_unique_receipt_stops_a_second_vote_that_slipped_past_the_check(branch, monkeypatch):
    """Two requests of one member at once: both pass the check, the constraint stops one."""
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members[:1])
    real_filter = VoteReceipt.objects.filter

    class Blind:
        def exists(self):
            return False

    monkeypatch.setattr(
        VoteReceipt.objects,
        "filter",
        lambda *a, **k: Blind() if "voter" in k else real_filter(*a, **k),
    )
    with pytest.raises(Conflict):
        _vote_all(rnd, members[:1])
    monkeypatch.undo()
    assert VoteReceipt.objects.count() == 1
    assert Ballot.objects.exclude(choice="").count() == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda others, own: {},  # nothing chosen
        lambda others, own: {others[0]: "qualified"},  # one member left out
        lambda others, own: {**{o: "qualified" for o in others}, own: "excellent"},  # self
        lambda others, own: {o: "perfect" for o in others},  # not a grade
        lambda others, own: {**{o: "qualified" for o in others}, 987654: "qualified"},
    ],
)
def test_an_incomplete_or_invalid_ballot_is_refused_and_stores_nothing(branch, make):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    own = rnd.participants.get(driver=members[0])
    others = list(rnd.participants.exclude(pk=own.pk).values_list("pk", flat=True))
    with pytest.raises(ValidationFailed):
        services.ballot_cast(actor=members[0].user, round=rnd, choices=make(others, own.pk))
    assert not VoteReceipt.objects.exists()
    assert not Ballot.objects.exclude(choice="").exists()


def test_non_members_and_staff_cannot_vote(branch):
    city, _members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    outsider = city.member("别的支部", platform=city.platform_b)
    ordinary = city.driver("群众")
    for actor in (outsider.user, ordinary.user, secretary, city.admin):
        with pytest.raises(NotFound):
            services.ballot_cast(actor=actor, round=rnd, choices={})
    assert not VoteReceipt.objects.exists()


def test_no_vote_before_voting_or_after_closing(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    with pytest.raises(InvalidTransition):
        _vote_all(rnd, members[:1])
    services.round_start_voting(actor=secretary, round=rnd)
    services.round_close(actor=secretary, round=rnd)
    with pytest.raises(InvalidTransition):
        _vote_all(rnd, members[:1])
    assert not VoteReceipt.objects.exists()


def test_the_tally_is_refused_until_the_round_closes(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members)
    with pytest.raises(selectors.TallyHidden):
        selectors.tally(secretary, rnd)
    with pytest.raises(selectors.TallyHidden):
        selectors.tally(city.admin, rnd)
    services.round_close(actor=secretary, round=rnd)
    assert sum(row.total for row in selectors.tally(secretary, rnd)) == 3 * 2
    with pytest.raises(NotFound):  # another platform's staff never see it
        selectors.tally(testing.staff(city.committee_b), rnd)


def test_closing_drops_unused_slots(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members[:1])
    services.round_close(actor=secretary, round=rnd)
    assert Ballot.objects.filter(round=rnd).count() == 2
    assert not Ballot.objects.filter(round=rnd, choice="").exists()


def test_every_step_is_audited(branch):
    city, members, secretary = branch
    rnd = _open(city, secretary)
    services.round_start_voting(actor=secretary, round=rnd)
    _vote_all(rnd, members[:1])
    actions = list(AuditEntry.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions[-3:] == ["evaluation.open", "evaluation.start_voting", "evaluation.vote"]
