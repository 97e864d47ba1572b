"""State machines: one declarative table per stateful model, one way to move along it.

A machine names the model's state field, its activity model and the transitions. `apply`
checks the action against the current state (and the guard), sets the new state, saves the
object, writes the activity row and an audit entry — all in one transaction, so there is never
a state change without its row, nor a row without its state change::

    from redwheel.core.states import StateMachine, Transition

    MEMBERSHIP = StateMachine(
        state_field="state",
        activity_model=MembershipActivity,  # FK `membership`, fields from_state / to_state
        parent_field="membership",
        audit_prefix="membership",          # audit action "membership.verify"
        transitions={
            "declare": Transition({None, "rejected"}, "declared"),  # None: not saved yet
            "verify": Transition({"declared"}, "verified"),
            "check_out": Transition(
                {"verified"},
                None,                                 # None target: the state stays
                guard=lambda m: m.mobile_branch_id is not None,
                refusal=_("This member is not checked in."),
            ),
        },
    )

    MEMBERSHIP.allowed_actions(membership)        # ["verify"]
    MEMBERSHIP.check(membership, "verify")        # raises InvalidTransition if not allowed
    MEMBERSHIP.apply(
        membership, "verify", actor=request.user, note="seen the papers",
        branch=membership.branch,                 # any further activity field
    )
    MEMBERSHIP.apply(                             # fields the guard reads change after it
        membership, "check_out", actor=request.user, changes={"mobile_branch": None},
    )

The caller locks the row (select_for_update) before `apply` when concurrent writers matter;
`apply` only makes its own writes atomic.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit as audit_log
from redwheel.core.errors import InvalidTransition


@dataclass(frozen=True)
class Transition:
    """`sources`: states the action may start from (None: an object not yet saved).
    `target`: the state it leads to (None: the state stays, e.g. a transfer).
    `guard(obj) -> bool`: a further condition; `refusal` is the message when it says no and
    `code` the error code (for API clients) then.
    `audit`: whether the step adds an audit entry besides its activity row (background steps
    such as a job's progress through checking need only the activity row)."""

    sources: Iterable[str | None]
    target: str | None
    guard: Callable[[Any], bool] | None = None
    refusal: Any = None
    code: str | None = None
    audit: bool = True

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))


@dataclass(frozen=True)
class StateMachine:
    transitions: dict[str, Transition]
    activity_model: type[models.Model]
    parent_field: str
    audit_prefix: str
    state_field: str = "state"
    from_field: str = "from_state"
    to_field: str = "to_state"
    # Set to `now` whenever the state actually changes (e.g. "state_changed_at").
    changed_at_field: str | None = None
    # The activity's own time field, set to `now` (for rows whose time is not auto_now_add).
    activity_time_field: str | None = None
    # How the object is written; `save(obj, now)`. Default: obj.save(), or with
    # `save_changes_only` only the state and the `changes` of the call (for rows that other
    # writers update meanwhile, e.g. a job's progress).
    save: Callable[[Any, datetime], None] | None = None
    save_changes_only: bool = False
    # Activity fields every row of this machine carries, from the object and the actor.
    activity_defaults: Callable[[Any, Any], dict] | None = None
    audit_summary: Callable[[Any], str] = str
    # The note is free text; machines whose notes may hold personal data keep it out of the
    # audit log (the log is read more widely than the object).
    note_in_audit: bool = True

    # Reading ---------------------------------------------------------------------------------

    def state_of(self, obj) -> str | None:
        if obj is None or obj._state.adding:
            return None
        return getattr(obj, self.state_field) or None

    def allowed_actions(self, obj) -> list[str]:
        """The actions `obj` may take now, in table order (for buttons and API hints)."""
        return [action for action in self.transitions if self._allows(obj, action)]

    def _allows(self, obj, action: str, *, guarded: bool = True) -> bool:
        transition = self.transitions.get(action)
        if transition is None or self.state_of(obj) not in transition.sources:
            return False
        return not guarded or transition.guard is None or bool(transition.guard(obj))

    def check(self, obj, action: str) -> None:
        """Raise InvalidTransition (naming the action and the current state) unless allowed."""
        if self._allows(obj, action):
            return
        names = {"action": self.action_label(action), "object": self._object_name()}
        if not self._allows(obj, action, guarded=False):
            names["state"] = self.state_label(self.state_of(obj))
            raise InvalidTransition(
                _("“%(action)s” is not possible while the %(object)s is “%(state)s”.") % names
            )
        transition = self.transitions[action]
        raise InvalidTransition(
            transition.refusal or _("“%(action)s” is not possible for this %(object)s.") % names,
            code=transition.code,
        )

    def action_label(self, action: str) -> str:
        choices = dict(self.activity_model._meta.get_field("action").flatchoices)
        return str(choices.get(action, action))

    def state_label(self, state: str | None) -> str:
        if state is None:
            return _("not yet created")
        parent = self.activity_model._meta.get_field(self.parent_field).related_model
        choices = dict(parent._meta.get_field(self.state_field).flatchoices)
        return str(choices.get(state, state))

    def _object_name(self) -> str:
        parent = self.activity_model._meta.get_field(self.parent_field).related_model
        return str(parent._meta.verbose_name)

    # Writing ---------------------------------------------------------------------------------

    def apply(
        self,
        obj,
        action: str,
        *,
        actor,
        note: str = "",
        now: datetime | None = None,
        changes: dict | None = None,
        audit: bool | None = None,
        audit_data: dict | None = None,
        audit_action: str | None = None,
        audit_summary: str | Callable[[Any], str] | None = None,
        audit_reason: str | None = None,
        **activity_fields,
    ):
        """Move `obj` by `action`; return the activity row.

        `changes` are further fields of `obj` set after the check and saved with the state (set
        them here rather than before the call when the guard reads them). `activity_fields` go
        on the activity row, over `activity_defaults`. The audit entry's action, summary and
        reason default to "<audit_prefix>.<action>", the machine's `audit_summary` and the note
        (see `note_in_audit`); a callable summary is called with the saved object. `audit`
        overrides the transition's `audit` flag for this call.
        """
        self.check(obj, action)
        now = now or timezone.now()
        transition = self.transitions[action]
        before = self.state_of(obj)
        updates = dict(changes or {})
        if transition.target is not None:
            updates[self.state_field] = transition.target
            if self.changed_at_field and transition.target != before:
                updates[self.changed_at_field] = now
        previous = {name: getattr(obj, name) for name in updates}
        adding = obj._state.adding
        try:
            with transaction.atomic():
                for name, value in updates.items():
                    setattr(obj, name, value)
                if self.save is not None:
                    self.save(obj, now)
                elif self.save_changes_only and not obj._state.adding:
                    obj.save(update_fields=_with_auto_now(obj, updates))
                else:
                    obj.save()
                if self.activity_time_field:
                    activity_fields = {self.activity_time_field: now, **activity_fields}
                activity = self._write_activity(obj, action, actor, note, before, activity_fields)
                if transition.audit if audit is None else audit:
                    self._write_audit(
                        obj,
                        action,
                        actor,
                        note,
                        audit_action,
                        audit_summary,
                        audit_reason,
                        audit_data,
                    )
        except BaseException:
            # The database rolled back; the object in memory must not claim otherwise.
            for name, value in previous.items():
                setattr(obj, name, value)
            if adding:
                obj.pk, obj._state.adding = None, True
            raise
        return activity

    def _write_audit(self, obj, action, actor, note, name, summary, reason, data):
        if reason is None:
            reason = note if self.note_in_audit else ""
        summary = self.audit_summary if summary is None else summary
        audit_log.record(
            actor=actor,
            action=name or f"{self.audit_prefix}.{action}",
            obj=obj,
            summary=summary(obj) if callable(summary) else summary,
            reason=reason[:300],
            data=data,
        )

    def _write_activity(self, obj, action, actor, note, before, extra):
        fields = {
            self.parent_field: obj,
            "actor": actor if audit_log._is_person(actor) else None,
            "action": action,
            self.from_field: before or "",
            self.to_field: getattr(obj, self.state_field),
            "note": _fit(self.activity_model, "note", note or ""),
        }
        if self.activity_defaults is not None:
            fields.update(self.activity_defaults(obj, actor))
        fields.update(extra)
        return self.activity_model.objects.create(**fields)


def _with_auto_now(obj, updates: dict) -> list[str]:
    auto = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
    return list(dict.fromkeys([*updates, *auto]))


def _fit(model: type[models.Model], name: str, value: str) -> str:
    limit = model._meta.get_field(name).max_length
    return value[:limit] if limit else value
