"""The secret-ballot proof (issue 14, acceptance "Secret ballot"): after members vote through
their pages, no stored row of any model, no audit entry, no session, no notification and no
log record links a voter to a choice."""

import logging
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.core.dates import local_date
from redwheel.core.models import AuditEntry
from redwheel.party.evaluation import services
from redwheel.party.evaluation.models import Ballot, Grade, Round, VoteReceipt

GRADE_WORDS = [*Grade.values, *(str(label) for label in Grade.labels), "优秀", "基本合格"]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ballot_post(rnd, voter_driver, grade) -> dict:
    own = rnd.participants.get(driver=voter_driver)
    return {f"m{p.pk}": grade for p in rnd.participants.exclude(pk=own.pk)}


def _values(obj) -> list:
    found = []
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        found.append((f.name, value))
    if isinstance(obj, Session):
        found.append(("decoded", obj.get_decoded()))
    return found


def _mentions_a_grade(value) -> bool:
    text = repr(value)
    return any(word in text for word in GRADE_WORDS)


@pytest.fixture
def voting(city):
    members = [city.member(f"党员{n}") for n in range(4)]
    secretary = testing.staff(city.branch_a, "secretary")
    rnd = services.round_open(actor=secretary, branch=city.branch_a, year=local_date().year)
    services.round_start_voting(actor=secretary, round=rnd)
    return rnd, members, secretary


@pytest.mark.django_db
def test_nothing_stored_or_logged_links_a_voter_to_a_choice(voting, caplog):
    rnd, members, _secretary = voting
    slots = set(Ballot.objects.values_list("pk", flat=True))
    audit_before = set(AuditEntry.objects.values_list("pk", flat=True))
    # Three members vote, each with a grade of their own for everyone; the fourth does not.
    grades = dict(zip(members[:3], ["excellent", "basic", "unqualified"], strict=True))
    caplog.set_level(logging.DEBUG)
    clients = {}
    for member, grade in grades.items():
        client = clients[member] = _signed_in(member.user)
        url = reverse("evaluation:ballot", args=[rnd.pk])
        assert client.post(url, _ballot_post(rnd, member, grade)).status_code == 302
        # A second post (refused: already voted) must not log anything of it either.
        assert client.post(url, _ballot_post(rnd, member, "qualified")).status_code == 302

    # The votes are stored: each subject got one grade from each voter who is not them.
    counts = {
        p.driver_id: Counter(p.ballots_about.exclude(choice="").values_list("choice", flat=True))
        for p in rnd.participants.all()
    }
    expected = {m.pk: Counter(g for voter, g in grades.items() if voter != m) for m in members}
    assert counts == expected

    # 1. No ballot row was inserted while members voted: the slots all date from the start
    #    of voting, so neither ids nor row order can follow the order of the votes.
    assert set(Ballot.objects.values_list("pk", flat=True)) == slots

    # 2. The two tables a vote writes: a receipt without a choice, a ballot without a voter.
    assert {f.name for f in Ballot._meta.concrete_fields} == {"id", "round", "subject", "choice"}
    assert {f.name for f in VoteReceipt._meta.concrete_fields} == {"id", "round", "voter"}
    for model in (Ballot, VoteReceipt):
        assert isinstance(model._meta.pk, models.UUIDField)
        assert not any(
            isinstance(f, models.DateField | models.DateTimeField)
            for f in model._meta.concrete_fields
        )
    assert set(VoteReceipt.objects.values_list("voter__driver_id", flat=True)) == {
        m.pk for m in grades
    }

    # 3. Every stored row of every model: a grade appears only as a ballot's choice.
    tables = set(connection.introspection.table_names())
    checked = 0
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue  # (a model of work in progress elsewhere, not yet migrated)
        checked += 1
        for obj in model._base_manager.all():
            for name, value in _values(obj):
                if _mentions_a_grade(value):
                    assert (model, name) == (Ballot, "choice"), f"{model.__name__}.{name}"
    assert checked > 50

    # 4. The audit log says who voted in which round, never what.
    new = AuditEntry.objects.exclude(pk__in=audit_before)
    votes = new.filter(action="evaluation.vote")
    assert votes.count() == 3
    assert set(votes.values_list("object_type", "object_id")) == {
        ("party_evaluation.round", str(rnd.pk))
    }
    for entry in new:
        assert entry.data == {} or entry.action != "evaluation.vote"
        assert not any(_mentions_a_grade(v) for _n, v in _values(entry))

    # 5. Nothing logged while voting carries a choice (no request body is logged).
    for record in caplog.records:
        assert not _mentions_a_grade(record.getMessage()), record.getMessage()
        assert not _mentions_a_grade(getattr(record, "args", None))

    # 6. What the voter sees afterwards: that they voted, not what.
    page = clients[members[0]].get(reverse("evaluation:ballot", args=[rnd.pk]))
    body = page.content.decode()
    assert "You have voted." in body
    assert not any(str(label) in body for label in Grade.labels)
    assert not any(word in str(page.cookies) for word in GRADE_WORDS)


@pytest.mark.django_db
def test_the_ballot_page_shows_every_other_member_once_and_no_tally(voting):
    rnd, members, _secretary = voting
    page = _signed_in(members[0].user).get(reverse("evaluation:ballot", args=[rnd.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    for other in members[1:]:
        assert body.count(f"<strong>{other.name}</strong>") == 1
    assert f"<strong>{members[0].name}</strong>" not in body  # not oneself
    assert body.count('type="radio"') == 3 * 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL system columns")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_closing_no_ballot_carries_the_transaction_of_a_vote(city):
    """On PostgreSQL every row remembers the transaction that wrote it (xmin). While voting,
    a ballot and its voter's receipt share one; closing rewrites every ballot at once."""
    members = [city.member(f"党员{n}") for n in range(3)]
    rnd = services.round_open(actor=city.admin, branch=city.branch_a, year=local_date().year)
    services.round_start_voting(actor=city.admin, round=rnd)
    for m in members:
        own = rnd.participants.get(driver=m)
        choices = {p.pk: "qualified" for p in rnd.participants.exclude(pk=own.pk)}
        services.ballot_cast(actor=m.user, round=rnd, choices=choices)

    def xmins(model):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT xmin::text FROM {model._meta.db_table} WHERE round_id = %s",
                [rnd.pk],
            )
            return {row[0] for row in cursor.fetchall()}

    receipts, voting = xmins(VoteReceipt), xmins(Ballot)
    # While voting, each vote's transaction is on the slots it filled (and its receipt is
    # written by the same or an adjacent transaction id): traceable inside the database.
    assert len(receipts) == 3
    assert len(voting) == 3  # every slot filled: one transaction per vote
    services.round_close(actor=city.admin, round=rnd)
    after = xmins(Ballot)
    assert len(after) == 1
    assert not after & (receipts | voting)
    assert Round.objects.get(pk=rnd.pk).state == Round.State.CLOSED
