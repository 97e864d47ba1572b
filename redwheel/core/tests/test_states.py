"""The kernel state-machine helper, exercised on a machine of its own over real tables."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError
from django.utils import timezone

from redwheel.core.errors import InvalidTransition
from redwheel.core.models import AuditEntry
from redwheel.core.states import StateMachine, Transition
from redwheel.drivers.models import Membership, MembershipActivity

pytestmark = pytest.mark.django_db

MACHINE = StateMachine(
    activity_model=MembershipActivity,
    parent_field="membership",
    audit_prefix="test_membership",
    changed_at_field="state_changed_at",
    activity_defaults=lambda m, actor: {"category": m.category, "branch": m.branch},
    transitions={
        "declare": Transition({None, "rejected"}, "declared"),
        "verify": Transition({"declared"}, "verified"),
        "reject": Transition({"declared"}, "rejected"),
        "transfer": Transition({"declared", "verified"}, None),
        "check_out": Transition(
            {"verified"},
            None,
            guard=lambda m: m.mobile_branch_id is not None,
            refusal="not checked in",
        ),
    },
)


@pytest.fixture
def declared(city):
    driver = city.driver(account=False)
    return Membership.objects.create(
        driver=driver,
        category="full",
        branch=city.branch_a,
        state="declared",
        state_changed_at=timezone.now() - timedelta(days=3),
    )


def _audits(membership):
    return AuditEntry.objects.filter(object_type="drivers.membership", object_id=membership.pk)


def test_apply_saves_state_and_writes_activity_and_audit(city, declared):
    activity = MACHINE.apply(declared, "verify", actor=city.admin, note="papers seen")

    declared.refresh_from_db()
    assert declared.state == "verified"
    assert timezone.now() - declared.state_changed_at < timedelta(minutes=1)
    assert (activity.membership, activity.actor, activity.action) == (
        declared,
        city.admin,
        "verify",
    )
    assert (activity.from_state, activity.to_state, activity.note) == (
        "declared",
        "verified",
        "papers seen",
    )
    assert (activity.category, activity.branch) == ("full", city.branch_a)
    entry = _audits(declared).get()
    assert (entry.action, entry.reason) == ("test_membership.verify", "papers seen")


def test_new_object_starts_from_none_and_extra_fields_reach_the_activity(city):
    driver = city.driver(account=False)
    membership = Membership(driver=driver, category="full", branch=city.branch_a)
    activity = MACHINE.apply(membership, "declare", actor=None, branch=city.mobile_branch_a)
    assert membership.pk is not None
    assert (activity.from_state, activity.to_state) == ("", "declared")
    assert activity.actor is None
    assert activity.branch == city.mobile_branch_a, "call fields override the defaults"


def test_bad_transition_is_refused_and_nothing_is_written(city, declared):
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.apply(declared, "check_out", actor=city.admin)
    message = str(refused.value.message)
    assert "Left the mobile branch" in message, "names the action"
    assert "Declared" in message, "names the current state"
    assert declared.state == "declared"
    declared.refresh_from_db()
    assert declared.state == "declared"
    assert not declared.activities.exists()
    assert not _audits(declared).exists()


def test_unknown_action_is_refused(city, declared):
    with pytest.raises(InvalidTransition):
        MACHINE.check(declared, "explode")
    assert "explode" not in MACHINE.allowed_actions(declared)


def test_allowed_actions_follow_state_and_guard(city, declared):
    assert MACHINE.allowed_actions(None) == ["declare"]
    assert MACHINE.allowed_actions(declared) == ["verify", "reject", "transfer"]
    MACHINE.apply(declared, "verify", actor=city.admin)
    assert MACHINE.allowed_actions(declared) == ["transfer"], "check_out is guarded"
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.check(declared, "check_out")
    assert str(refused.value.message) == "not checked in"

    declared.mobile_branch = city.mobile_branch_a
    assert MACHINE.allowed_actions(declared) == ["transfer", "check_out"]


def test_changes_are_set_after_the_guard_and_saved_with_the_state(city, declared):
    MACHINE.apply(declared, "verify", actor=city.admin)
    Membership.objects.filter(pk=declared.pk).update(mobile_branch=city.mobile_branch_a)
    declared.refresh_from_db()
    changed_at = declared.state_changed_at

    MACHINE.apply(declared, "check_out", actor=city.admin, changes={"mobile_branch": None})

    declared.refresh_from_db()
    assert declared.mobile_branch is None
    assert declared.state == "verified"
    assert declared.state_changed_at == changed_at, "a kept state keeps its timestamp"
    assert declared.activities.last().to_state == "verified"


def test_failed_activity_insert_leaves_the_state_unsaved(city, declared):
    with (
        mock.patch.object(MembershipActivity.objects, "create", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        MACHINE.apply(declared, "verify", actor=city.admin, changes={"rejection_reason": "x"})

    assert (declared.state, declared.rejection_reason) == ("declared", ""), "memory restored"
    declared.refresh_from_db()
    assert declared.state == "declared"
    assert declared.rejection_reason == ""
    assert not declared.activities.exists()
    assert not _audits(declared).exists()


def test_failed_audit_entry_rolls_back_state_and_activity(city, declared):
    with (
        mock.patch("redwheel.core.audit.record", side_effect=RuntimeError("audit down")),
        pytest.raises(RuntimeError),
    ):
        MACHINE.apply(declared, "verify", actor=city.admin)
    declared.refresh_from_db()
    assert declared.state == "declared"
    assert not declared.activities.exists()


def test_custom_save_is_used(city, declared):
    seen = []
    machine = StateMachine(
        activity_model=MembershipActivity,
        parent_field="membership",
        audit_prefix="test_membership",
        activity_defaults=lambda m, actor: {"category": m.category},
        transitions={"verify": Transition({"declared"}, "verified")},
        save=lambda obj, now: (seen.append(now), obj.save(update_fields=["state"])),
    )
    now = timezone.now()
    activity = machine.apply(declared, "verify", actor=city.admin, now=now)
    assert seen == [now]
    assert activity.to_state == "verified"
    declared.refresh_from_db()
    assert declared.state == "verified"


def test_a_guard_refusal_carries_its_code(city, declared):
    machine = StateMachine(
        activity_model=MembershipActivity,
        parent_field="membership",
        audit_prefix="test_membership",
        transitions={
            "verify": Transition(
                {"declared"}, "verified", guard=lambda m: False, refusal="no", code="papers"
            )
        },
    )
    with pytest.raises(InvalidTransition) as refused:
        machine.check(declared, "verify")
    assert (refused.value.code, str(refused.value.message)) == ("papers", "no")


def test_a_step_without_audit_still_writes_its_activity(city, declared):
    machine = StateMachine(
        activity_model=MembershipActivity,
        parent_field="membership",
        audit_prefix="test_membership",
        activity_defaults=lambda m, actor: {"category": m.category},
        transitions={
            "verify": Transition({"declared"}, "verified", audit=False),
            "lapse": Transition({"verified"}, "lapsed", audit=False),
        },
    )
    machine.apply(declared, "verify", actor=city.admin)
    assert declared.activities.count() == 1
    assert not _audits(declared).exists()
    machine.apply(declared, "lapse", actor=city.admin, audit=True, audit_action="x.lapse")
    assert list(_audits(declared).values_list("action", flat=True)) == ["x.lapse"]


def test_changes_only_saves_what_the_step_changed(city, declared):
    machine = StateMachine(
        activity_model=MembershipActivity,
        parent_field="membership",
        audit_prefix="test_membership",
        activity_defaults=lambda m, actor: {"category": m.category},
        save_changes_only=True,
        transitions={"verify": Transition({"declared"}, "verified")},
    )
    Membership.objects.filter(pk=declared.pk).update(home_organisation="written meanwhile")
    machine.apply(declared, "verify", actor=city.admin, changes={"rejection_reason": ""})
    declared.refresh_from_db()
    assert (declared.state, declared.home_organisation) == ("verified", "written meanwhile")


def test_a_failed_insert_of_a_new_object_leaves_it_unsaved(city):
    membership = Membership(driver=city.driver(account=False), category="full")
    membership.branch = city.branch_a
    with (
        mock.patch.object(MembershipActivity.objects, "create", side_effect=IntegrityError("x")),
        pytest.raises(IntegrityError),
    ):
        MACHINE.apply(membership, "declare", actor=city.admin)
    assert membership.pk is None and membership._state.adding
    assert not Membership.objects.filter(driver=membership.driver).exists()
